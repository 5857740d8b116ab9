//! The nodes file: which simulated nodes each logical cluster has.
//!
//! YAML (or JSON, when the file starts with `{`). Top level: `clusters`, a map
//! from logical cluster name to that cluster's nodes. Each entry of `nodes` is
//! one node (`name`) or a group of alike nodes (`namePrefix` + `count`, named
//! `<namePrefix><start>` … `<namePrefix><start+count-1>`, `start` defaulting to 1):
//!
//! ```yaml
//! clusters:
//!   root:                          # logical cluster name
//!     # podCIDR: 10.244.0.0/16     # node pod CIDRs are cut from it, in node order
//!     # nodeCIDRMaskSize: 24       # size of each node's pod CIDR
//!     # nodeIPRange: 172.18.0.0/16 # InternalIPs: .2, .3, … in node order
//!     nodes:
//!       - namePrefix: gpu-node-    # gpu-node-1 … gpu-node-4
//!         count: 4
//!         cpu: 64                  # Kubernetes quantities: 64, "500m", 512Gi
//!         memory: 512Gi
//!         pods: 110                # max pods (default 110)
//!         gpus: 8                  # capacity of gpuResource
//!         gpuModel: NVIDIA-A100-SXM4-80GB   # label nvidia.com/gpu.product
//!         # gpuResource: nvidia.com/gpu     # the default
//!         labels:
//!           kubeplex.io/pool: gpu-a100
//!         taints:
//!           - key: nvidia.com/gpu
//!             value: present       # optional
//!             effect: NoSchedule   # NoSchedule, PreferNoSchedule or NoExecute
//!       - name: cpu-node
//!         cpu: 16
//!         memory: 64Gi
//!         # ephemeralStorage: 100Gi # the default
//!         # resources: {example.com/fpga: 2}  # more extended resources
//!         # annotations: {team: ml}
//!         # instanceType: m6i.4xlarge         # label node.kubernetes.io/instance-type
//!         # unschedulable: true               # spec.unschedulable (cordoned)
//! ```
//!
//! Defaults: `cpu` 16, `memory` 64Gi, `ephemeralStorage` 100Gi, `pods` 110
//! (fewer if the node pod CIDR has fewer IPs), `gpus` 0. A node with GPUs also gets the labels `<gpuResource>.present:
//! "true"`, `<gpuResource>.count` and (with `gpuModel`) `<gpuResource>.product`,
//! as NVIDIA's GPU feature discovery sets them. `podCIDR` defaults to
//! `10.244.0.0/16`, or `10.128.0.0/9` when the cluster has more nodes than
//! that holds.
//!
//! Unknown keys are refused, naming the key and its line. Values are then
//! validated (quantities, names, labels, taint effects, duplicate node
//! names, CIDRs) and every problem is reported, one per line, with its path
//! (`clusters.root.nodes[1].cpu: Invalid value: "lots": …`).
//!
//! Without a file, [`default_config`] ([`DEFAULT_NODES_YAML`]) applies: three
//! nodes in `root`, two of them with 8 `nvidia.com/gpu` each.

use std::collections::{BTreeMap, HashSet};
use std::net::Ipv4Addr;

use k8s_openapi::api::core::v1::Taint;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as K8sQuantity;
use kubeplex_core::names::{self, FieldError};
use kubeplex_core::quantity::Quantity;
use serde::Deserialize;

use crate::Error;
use crate::ipam::{Ipv4Cidr, pod_ip_count};

/// The logical cluster a path without `/clusters/<name>` addresses.
pub const DEFAULT_CLUSTER: &str = "root";
/// The cluster pod CIDR when the file names none (and the nodes fit in it).
pub const DEFAULT_POD_CIDR: &str = "10.244.0.0/16";
/// The cluster pod CIDR when the file names none and the nodes do not fit in
/// [`DEFAULT_POD_CIDR`].
pub const LARGE_POD_CIDR: &str = "10.128.0.0/9";
/// The range node InternalIPs come from when the file names none.
pub const DEFAULT_NODE_IP_RANGE: &str = "172.18.0.0/16";
/// The prefix length of each node's pod CIDR by default.
pub const DEFAULT_NODE_CIDR_MASK_SIZE: u8 = 24;
/// Max pods per node by default (the kubelet's `maxPods` default).
pub const DEFAULT_MAX_PODS: u32 = 110;
/// The extended resource `gpus` counts by default.
pub const DEFAULT_GPU_RESOURCE: &str = "nvidia.com/gpu";
/// CPU of a node whose entry names none.
pub const DEFAULT_CPU: &str = "16";
/// Memory of a node whose entry names none.
pub const DEFAULT_MEMORY: &str = "64Gi";
/// Ephemeral storage of a node whose entry names none.
pub const DEFAULT_EPHEMERAL_STORAGE: &str = "100Gi";

/// Most nodes one `namePrefix` entry may declare.
pub const MAX_GROUP_COUNT: u32 = 100_000;

/// The nodes `kubeplex up` simulates when given no `--nodes` file (what
/// [`default_config`] parses). `kubeplex up` may print or write it as a
/// starting point.
pub const DEFAULT_NODES_YAML: &str = "\
# Simulated nodes of kubeplex, per logical cluster (kubeplex up --nodes FILE).
# Each entry of `nodes` is one node (`name`) or a group (`namePrefix` + `count`).
clusters:
  root:
    nodes:
      - namePrefix: kubeplex-node-
        count: 2
        cpu: 64
        memory: 512Gi
        pods: 110
        gpus: 8
        gpuModel: NVIDIA-A100-SXM4-80GB
        labels:
          kubeplex.io/pool: gpu-a100
      - name: kubeplex-node-3
        cpu: 16
        memory: 64Gi
        pods: 110
        labels:
          kubeplex.io/pool: cpu
";

/// Every logical cluster's simulated nodes, validated.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NodesConfig {
    /// By logical cluster name.
    pub clusters: BTreeMap<String, ClusterNodes>,
}

impl NodesConfig {
    /// How many nodes all clusters have together.
    pub fn node_count(&self) -> usize {
        self.clusters.values().map(|c| c.nodes.len()).sum()
    }
}

/// One logical cluster's simulated nodes.
#[derive(Clone, Debug, PartialEq)]
pub struct ClusterNodes {
    /// The range node pod CIDRs are cut from.
    pub pod_cidr: Ipv4Cidr,
    /// The prefix length of each node's pod CIDR.
    pub node_cidr_mask_size: u8,
    /// The range node InternalIPs come from.
    pub node_ip_range: Ipv4Cidr,
    /// In file order (which fixes each node's index, pod CIDR and IP).
    pub nodes: Vec<NodeSpec>,
}

/// One simulated node, everything precomputed: [`crate::node::node`] turns it
/// into a Node object.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeSpec {
    /// The Node's name.
    pub name: String,
    /// Its position in its cluster (0-based), which picks its pod CIDR and IP.
    pub index: u32,
    /// `status.addresses` InternalIP.
    pub internal_ip: Ipv4Addr,
    /// `spec.podCIDR`.
    pub pod_cidr: Ipv4Cidr,
    /// `status.capacity` (and `allocatable`, which equals it): cpu, memory,
    /// pods, ephemeral-storage, hugepages, GPUs, extra extended resources.
    pub capacity: BTreeMap<String, K8sQuantity>,
    /// Max pods.
    pub max_pods: u32,
    /// Labels from the file plus the GPU labels (the kubelet's own labels,
    /// hostname, os, arch, are added by [`crate::node::node`]).
    pub labels: BTreeMap<String, String>,
    /// Annotations from the file.
    pub annotations: BTreeMap<String, String>,
    /// `spec.taints`.
    pub taints: Vec<Taint>,
    /// `spec.unschedulable`.
    pub unschedulable: bool,
}

/// A quantity as written: a string or a YAML/JSON number.
#[derive(Debug, Clone)]
struct QuantityText(String);

impl<'de> Deserialize<'de> for QuantityText {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = QuantityText;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a quantity such as 16, \"500m\" or 64Gi")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<QuantityText, E> {
                Ok(QuantityText(v.to_owned()))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<QuantityText, E> {
                Ok(QuantityText(v.to_string()))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<QuantityText, E> {
                Ok(QuantityText(v.to_string()))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<QuantityText, E> {
                Ok(QuantityText(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    clusters: BTreeMap<String, RawCluster>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawCluster {
    #[serde(default, rename = "podCIDR")]
    pod_cidr: Option<String>,
    #[serde(default, rename = "nodeCIDRMaskSize")]
    node_cidr_mask_size: Option<u8>,
    #[serde(default, rename = "nodeIPRange")]
    node_ip_range: Option<String>,
    #[serde(default)]
    nodes: Vec<RawGroup>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawGroup {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    name_prefix: Option<String>,
    #[serde(default)]
    count: Option<u32>,
    #[serde(default)]
    start: Option<u32>,
    #[serde(default)]
    cpu: Option<QuantityText>,
    #[serde(default)]
    memory: Option<QuantityText>,
    #[serde(default)]
    ephemeral_storage: Option<QuantityText>,
    #[serde(default)]
    pods: Option<u32>,
    #[serde(default)]
    gpus: Option<u32>,
    #[serde(default)]
    gpu_model: Option<String>,
    #[serde(default)]
    gpu_resource: Option<String>,
    #[serde(default)]
    resources: BTreeMap<String, QuantityText>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
    #[serde(default)]
    taints: Vec<RawTaint>,
    #[serde(default)]
    unschedulable: bool,
    #[serde(default)]
    instance_type: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTaint {
    key: String,
    #[serde(default)]
    value: Option<String>,
    effect: String,
}

/// Parses and validates a nodes file (YAML, or JSON when it starts with `{`).
pub fn parse_nodes_file(text: &str) -> Result<NodesConfig, Error> {
    let raw: RawFile = if text.trim_start().starts_with('{') {
        serde_json::from_str(text).map_err(|e| Error::Parse(e.to_string()))?
    } else {
        serde_saphyr::from_str(text).map_err(|e| Error::Parse(e.to_string()))?
    };
    validate(raw)
}

/// The nodes simulated when no file is given: [`DEFAULT_NODES_YAML`] parsed.
pub fn default_config() -> NodesConfig {
    // The text is fixed and a test parses it; an empty config is never returned.
    parse_nodes_file(DEFAULT_NODES_YAML).unwrap_or_default()
}

fn duplicate(field: String, value: &str) -> FieldError {
    FieldError { reason: "FieldValueDuplicate", field, body: format!("Duplicate value: {value:?}") }
}

/// A quantity field: parsed, non-negative (positive when `positive`), and a
/// whole number when `integer`; returns its canonical text.
fn quantity(
    errs: &mut Vec<FieldError>,
    field: String,
    text: Option<&QuantityText>,
    default: &str,
    positive: bool,
    integer: bool,
) -> Option<K8sQuantity> {
    let text = text.map_or(default, |q| q.0.as_str());
    let q = match Quantity::parse(text) {
        Ok(q) => q,
        Err(e) => {
            errs.push(FieldError::invalid(field, text, &e.to_string()));
            return None;
        }
    };
    let sign = q.sign();
    if sign == std::cmp::Ordering::Less || (positive && sign == std::cmp::Ordering::Equal) {
        let detail = if positive { "must be greater than zero" } else { "must be greater than or equal to 0" };
        errs.push(FieldError::invalid(field, text, detail));
        return None;
    }
    if integer && Quantity::from_i64(q.value(), q.format()) != q {
        errs.push(FieldError::invalid(field, text, "must be a whole number"));
        return None;
    }
    Some(K8sQuantity(q.to_string()))
}

fn check_label_like(errs: &mut Vec<FieldError>, field: &str, labels: &BTreeMap<String, String>) {
    errs.extend(names::validate_labels(labels.iter().map(|(k, v)| (k.as_str(), v.as_str())), field));
}

fn check_extended_resource(errs: &mut Vec<FieldError>, field: String, name: &str) {
    let problems = names::is_qualified_name(name);
    if !problems.is_empty() {
        errs.extend(problems.iter().map(|m| FieldError::invalid(field.clone(), name, m)));
    } else if !name.contains('/') || name.starts_with("kubernetes.io/") || name.starts_with("requests.") {
        errs.push(FieldError::invalid(
            field,
            name,
            "must be an extended resource name: a domain-prefixed name outside kubernetes.io, such as nvidia.com/gpu",
        ));
    }
}

fn validate(raw: RawFile) -> Result<NodesConfig, Error> {
    let mut errs = Vec::new();
    let mut clusters = BTreeMap::new();
    for (cluster_name, raw_cluster) in raw.clusters {
        let base = format!("clusters.{cluster_name}");
        for m in names::is_dns1123_label(&cluster_name) {
            errs.push(FieldError::invalid("clusters", &cluster_name, &m));
        }
        if let Some(cluster) = validate_cluster(&mut errs, &base, raw_cluster) {
            clusters.insert(cluster_name, cluster);
        }
    }
    if errs.is_empty() {
        Ok(NodesConfig { clusters })
    } else {
        let lines: Vec<String> = errs.iter().map(ToString::to_string).collect();
        Err(Error::Config(lines.join("\n")))
    }
}

/// A node entry before addresses are assigned.
struct Pending {
    name: String,
    capacity: BTreeMap<String, K8sQuantity>,
    max_pods: u32,
    labels: BTreeMap<String, String>,
    annotations: BTreeMap<String, String>,
    taints: Vec<Taint>,
    unschedulable: bool,
}

fn validate_cluster(errs: &mut Vec<FieldError>, base: &str, raw: RawCluster) -> Option<ClusterNodes> {
    let errors_before = errs.len();
    let mask = raw.node_cidr_mask_size.unwrap_or(DEFAULT_NODE_CIDR_MASK_SIZE);
    if !(8..=30).contains(&mask) {
        errs.push(FieldError::invalid_rendered(
            format!("{base}.nodeCIDRMaskSize"),
            &mask.to_string(),
            "must be between 8 and 30",
        ));
    }
    let mut pending: Vec<Pending> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    for (i, group) in raw.nodes.into_iter().enumerate() {
        validate_group(errs, &format!("{base}.nodes[{i}]"), group, mask, &mut seen, &mut pending);
    }
    let wanted = pending.len() as u64;

    let pod_cidr = match &raw.pod_cidr {
        Some(text) => match text.parse::<Ipv4Cidr>() {
            Ok(c) => Some(c),
            Err(e) => {
                errs.push(FieldError::invalid(format!("{base}.podCIDR"), text, &e.to_string()));
                None
            }
        },
        None => {
            let small: Option<Ipv4Cidr> = DEFAULT_POD_CIDR.parse().ok();
            let large: Option<Ipv4Cidr> = LARGE_POD_CIDR.parse().ok();
            match small {
                Some(c) if c.subnet_count(mask) >= wanted => Some(c),
                _ => large,
            }
        }
    };
    if let Some(c) = pod_cidr
        && (8..=30).contains(&mask)
    {
        let available = c.subnet_count(mask);
        if mask < c.prefix() {
            errs.push(FieldError::invalid_rendered(
                format!("{base}.nodeCIDRMaskSize"),
                &mask.to_string(),
                &format!("must not be shorter than the podCIDR prefix /{}", c.prefix()),
            ));
        } else if available < wanted {
            errs.push(FieldError::invalid(
                format!("{base}.podCIDR"),
                &c.to_string(),
                &format!(
                    "holds {available} node pod CIDRs of /{mask} but the cluster has {wanted} nodes; \
                     use a larger range (such as 10.128.0.0/9)"
                ),
            ));
        }
    }
    let node_ip_text = raw.node_ip_range.as_deref().unwrap_or(DEFAULT_NODE_IP_RANGE);
    let node_ip_range = match node_ip_text.parse::<Ipv4Cidr>() {
        Ok(c) => {
            // .0 network, .1 gateway, last broadcast.
            let usable = c.size().saturating_sub(3);
            if usable < wanted {
                errs.push(FieldError::invalid(
                    format!("{base}.nodeIPRange"),
                    node_ip_text,
                    &format!("holds {usable} node IPs but the cluster has {wanted} nodes"),
                ));
            }
            Some(c)
        }
        Err(e) => {
            errs.push(FieldError::invalid(format!("{base}.nodeIPRange"), node_ip_text, &e.to_string()));
            None
        }
    };
    if errs.len() > errors_before {
        return None;
    }
    let (pod_cidr, node_ip_range) = (pod_cidr?, node_ip_range?);
    let mut nodes = Vec::with_capacity(pending.len());
    for (index, p) in pending.into_iter().enumerate() {
        let index32 = u32::try_from(index).ok()?;
        nodes.push(NodeSpec {
            name: p.name,
            index: index32,
            internal_ip: node_ip_range.nth(index as u64 + 2)?,
            pod_cidr: pod_cidr.subnet(index as u64, mask)?,
            capacity: p.capacity,
            max_pods: p.max_pods,
            labels: p.labels,
            annotations: p.annotations,
            taints: p.taints,
            unschedulable: p.unschedulable,
        });
    }
    Some(ClusterNodes { pod_cidr, node_cidr_mask_size: mask, node_ip_range, nodes })
}

const TAINT_EFFECTS: [&str; 3] = ["NoExecute", "NoSchedule", "PreferNoSchedule"];

fn validate_group(
    errs: &mut Vec<FieldError>,
    path: &str,
    g: RawGroup,
    mask: u8,
    seen: &mut HashSet<String>,
    out: &mut Vec<Pending>,
) {
    let errors_before = errs.len();
    // Names.
    let names: Vec<String> = match (&g.name, &g.name_prefix) {
        (Some(_), Some(_)) => {
            errs.push(FieldError::forbidden(format!("{path}.namePrefix"), "may not be set together with name"));
            Vec::new()
        }
        (None, None) => {
            errs.push(FieldError::required(format!("{path}.name"), "name or namePrefix (with count) is required"));
            Vec::new()
        }
        (Some(name), None) => {
            if let Some(count) = g.count.filter(|c| *c != 1) {
                errs.push(FieldError::invalid_rendered(
                    format!("{path}.count"),
                    &count.to_string(),
                    "must be 1 (or unset) with name; use namePrefix for several nodes",
                ));
            }
            if g.start.is_some() {
                errs.push(FieldError::forbidden(format!("{path}.start"), "may only be set with namePrefix"));
            }
            for m in names::is_dns1123_subdomain(name) {
                errs.push(FieldError::invalid(format!("{path}.name"), name, &m));
            }
            vec![name.clone()]
        }
        (None, Some(prefix)) => {
            let count = g.count.unwrap_or(1);
            let start = g.start.unwrap_or(1);
            if count == 0 {
                errs.push(FieldError::invalid_rendered(format!("{path}.count"), "0", "must be at least 1"));
            }
            if count > MAX_GROUP_COUNT {
                errs.push(FieldError::invalid_rendered(
                    format!("{path}.count"),
                    &count.to_string(),
                    &format!("must be at most {MAX_GROUP_COUNT}"),
                ));
                return;
            }
            let generated: Vec<String> =
                (0..count).map(|i| format!("{prefix}{}", u64::from(start) + u64::from(i))).collect();
            // Validate the first and the longest (the last) generated names.
            for name in generated.first().into_iter().chain(generated.last()) {
                for m in names::is_dns1123_subdomain(name) {
                    errs.push(FieldError::invalid(format!("{path}.namePrefix"), prefix, &format!("{name:?}: {m}")));
                }
            }
            generated
        }
    };
    // Resources.
    let mut capacity = BTreeMap::new();
    let cpu = quantity(errs, format!("{path}.cpu"), g.cpu.as_ref(), DEFAULT_CPU, true, false);
    let memory = quantity(errs, format!("{path}.memory"), g.memory.as_ref(), DEFAULT_MEMORY, true, false);
    let storage = quantity(
        errs,
        format!("{path}.ephemeralStorage"),
        g.ephemeral_storage.as_ref(),
        DEFAULT_EPHEMERAL_STORAGE,
        false,
        false,
    );
    let ip_limit = pod_ip_count(mask);
    let max_pods = g
        .pods
        .unwrap_or_else(|| u32::try_from(ip_limit.min(u64::from(DEFAULT_MAX_PODS))).unwrap_or(DEFAULT_MAX_PODS).max(1));
    if max_pods == 0 {
        errs.push(FieldError::invalid_rendered(format!("{path}.pods"), "0", "must be at least 1"));
    } else if u64::from(max_pods) > ip_limit && (8..=30).contains(&mask) {
        errs.push(FieldError::invalid_rendered(
            format!("{path}.pods"),
            &max_pods.to_string(),
            &format!(
                "must be at most {ip_limit}, the pod IPs of a /{mask} node pod CIDR \
                 (lower the cluster's nodeCIDRMaskSize for more)"
            ),
        ));
    }
    capacity.insert("cpu".to_owned(), cpu.unwrap_or_default());
    capacity.insert("memory".to_owned(), memory.unwrap_or_default());
    capacity.insert("ephemeral-storage".to_owned(), storage.unwrap_or_default());
    capacity.insert("pods".to_owned(), K8sQuantity(max_pods.to_string()));
    capacity.insert("hugepages-1Gi".to_owned(), K8sQuantity("0".to_owned()));
    capacity.insert("hugepages-2Mi".to_owned(), K8sQuantity("0".to_owned()));

    let mut labels = BTreeMap::new();
    let gpus = g.gpus.unwrap_or(0);
    let gpu_resource = g.gpu_resource.clone().unwrap_or_else(|| DEFAULT_GPU_RESOURCE.to_owned());
    check_extended_resource(errs, format!("{path}.gpuResource"), &gpu_resource);
    if let Some(model) = &g.gpu_model {
        for m in names::is_label_value(model) {
            errs.push(FieldError::invalid(format!("{path}.gpuModel"), model, &m));
        }
        if gpus == 0 {
            errs.push(FieldError::forbidden(format!("{path}.gpuModel"), "may only be set on nodes with gpus"));
        }
    }
    if gpus > 0 {
        capacity.insert(gpu_resource.clone(), K8sQuantity(gpus.to_string()));
        labels.insert(format!("{gpu_resource}.present"), "true".to_owned());
        labels.insert(format!("{gpu_resource}.count"), gpus.to_string());
        if let Some(model) = &g.gpu_model {
            labels.insert(format!("{gpu_resource}.product"), model.clone());
        }
    }
    for (name, q) in &g.resources {
        let field = format!("{path}.resources[{name}]");
        check_extended_resource(errs, field.clone(), name);
        if *name == gpu_resource && gpus > 0 {
            errs.push(FieldError::forbidden(field.clone(), "is already given by gpus"));
        }
        if let Some(q) = quantity(errs, field, Some(q), "0", false, true) {
            capacity.insert(name.clone(), q);
        }
    }
    if let Some(instance_type) = &g.instance_type {
        for m in names::is_label_value(instance_type) {
            errs.push(FieldError::invalid(format!("{path}.instanceType"), instance_type, &m));
        }
        labels.insert("node.kubernetes.io/instance-type".to_owned(), instance_type.clone());
    }
    check_label_like(errs, &format!("{path}.labels"), &g.labels);
    labels.extend(g.labels.iter().map(|(k, v)| (k.clone(), v.clone())));
    errs.extend(names::validate_annotations(
        g.annotations.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        &format!("{path}.annotations"),
    ));
    // Taints.
    let mut taints = Vec::with_capacity(g.taints.len());
    let mut taint_keys: HashSet<(String, String)> = HashSet::new();
    for (i, t) in g.taints.iter().enumerate() {
        let tpath = format!("{path}.taints[{i}]");
        errs.extend(names::validate_label_name(&t.key, &format!("{tpath}.key")));
        if let Some(v) = &t.value {
            for m in names::is_label_value(v) {
                errs.push(FieldError::invalid(format!("{tpath}.value"), v, &m));
            }
        }
        if !TAINT_EFFECTS.contains(&t.effect.as_str()) {
            errs.push(FieldError::not_supported(format!("{tpath}.effect"), &t.effect, &TAINT_EFFECTS));
        }
        if !taint_keys.insert((t.key.clone(), t.effect.clone())) {
            errs.push(duplicate(tpath.clone(), &format!("{}:{}", t.key, t.effect)));
        }
        taints.push(Taint {
            key: t.key.clone(),
            value: t.value.clone().filter(|v| !v.is_empty()),
            effect: t.effect.clone(),
            time_added: None,
        });
    }
    let field = if g.name.is_some() { format!("{path}.name") } else { format!("{path}.namePrefix") };
    for name in &names {
        if !seen.insert(name.clone()) {
            errs.push(duplicate(field.clone(), name));
        }
    }
    if errs.len() > errors_before {
        return;
    }
    for name in names {
        out.push(Pending {
            name,
            capacity: capacity.clone(),
            max_pods,
            labels: labels.clone(),
            annotations: g.annotations.clone(),
            taints: taints.clone(),
            unschedulable: g.unschedulable,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> K8sQuantity {
        K8sQuantity(s.to_owned())
    }

    fn config_err(text: &str) -> String {
        match parse_nodes_file(text) {
            Err(Error::Config(m)) => m,
            other => panic!("expected a Config error, got {other:?}"),
        }
    }

    fn parse_err(text: &str) -> String {
        match parse_nodes_file(text) {
            Err(Error::Parse(m)) => m,
            other => panic!("expected a Parse error, got {other:?}"),
        }
    }

    #[test]
    fn default_config_is_three_root_nodes_two_with_gpus() {
        let config = default_config();
        assert_eq!(config, parse_nodes_file(DEFAULT_NODES_YAML).unwrap());
        assert_eq!(config.clusters.len(), 1);
        let root = &config.clusters[DEFAULT_CLUSTER];
        let names: Vec<&str> = root.nodes.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["kubeplex-node-1", "kubeplex-node-2", "kubeplex-node-3"]);
        for gpu in &root.nodes[..2] {
            assert_eq!(gpu.capacity["nvidia.com/gpu"], q("8"));
            assert_eq!(gpu.labels["kubeplex.io/pool"], "gpu-a100");
            assert_eq!(gpu.labels["nvidia.com/gpu.product"], "NVIDIA-A100-SXM4-80GB");
            assert_eq!(gpu.labels["nvidia.com/gpu.count"], "8");
            assert_eq!(gpu.labels["nvidia.com/gpu.present"], "true");
            assert_eq!(gpu.capacity["cpu"], q("64"));
            assert_eq!(gpu.capacity["memory"], q("512Gi"));
        }
        let cpu = &root.nodes[2];
        assert!(!cpu.capacity.contains_key("nvidia.com/gpu"));
        assert!(!cpu.labels.contains_key("nvidia.com/gpu.product"));
        assert_eq!(cpu.capacity["pods"], q("110"));
        assert_eq!(cpu.capacity["ephemeral-storage"], q("100Gi"));
        assert_eq!(root.nodes[0].pod_cidr.to_string(), "10.244.0.0/24");
        assert_eq!(root.nodes[2].pod_cidr.to_string(), "10.244.2.0/24");
        assert_eq!(root.nodes[0].internal_ip, Ipv4Addr::new(172, 18, 0, 2));
        assert_eq!(root.nodes[2].internal_ip, Ipv4Addr::new(172, 18, 0, 4));
        assert_eq!(config.node_count(), 3);
    }

    #[test]
    fn full_example_parses() {
        let text = "
clusters:
  root:
    nodes:
      - namePrefix: gpu-
        count: 2
        start: 0
        cpu: \"500m\"
        memory: 1.5Gi
        pods: 20
        gpus: 4
        gpuResource: amd.com/gpu
        gpuModel: MI300X
        resources: {example.com/fpga: 2}
        instanceType: big
        annotations: {team: ml}
        unschedulable: true
        taints:
          - {key: amd.com/gpu, effect: NoSchedule}
          - {key: dedicated, value: ml, effect: NoExecute}
  tenant-a:
    podCIDR: 10.50.0.0/16
    nodeCIDRMaskSize: 26
    nodeIPRange: 192.168.7.0/24
    nodes:
      - name: a
";
        let config = parse_nodes_file(text).unwrap();
        let root = &config.clusters["root"];
        assert_eq!(root.nodes[0].name, "gpu-0");
        assert_eq!(root.nodes[1].name, "gpu-1");
        let n = &root.nodes[0];
        assert_eq!(n.capacity["cpu"], q("500m"));
        assert_eq!(n.capacity["memory"], q("1536Mi"));
        assert_eq!(n.capacity["amd.com/gpu"], q("4"));
        assert_eq!(n.capacity["example.com/fpga"], q("2"));
        assert_eq!(n.max_pods, 20);
        assert_eq!(n.labels["amd.com/gpu.product"], "MI300X");
        assert_eq!(n.labels["node.kubernetes.io/instance-type"], "big");
        assert_eq!(n.annotations["team"], "ml");
        assert!(n.unschedulable);
        assert_eq!(n.taints.len(), 2);
        assert_eq!(n.taints[0].value, None);
        assert_eq!(n.taints[1].value.as_deref(), Some("ml"));
        let a = &config.clusters["tenant-a"].nodes[0];
        assert_eq!(a.pod_cidr.to_string(), "10.50.0.0/26");
        assert_eq!(a.internal_ip, Ipv4Addr::new(192, 168, 7, 2));
        assert_eq!(a.capacity["cpu"], q(DEFAULT_CPU));
        assert_eq!(a.capacity["memory"], q(DEFAULT_MEMORY));
        assert_eq!(a.max_pods, 61, "the default max pods fits the /26");
    }

    #[test]
    fn the_module_doc_example_parses() {
        let source = include_str!("config.rs");
        let example: String = source
            .lines()
            .skip_while(|l| *l != "//! ```yaml")
            .skip(1)
            .take_while(|l| *l != "//! ```")
            .map(|l| format!("{}\n", l.strip_prefix("//! ").unwrap_or("")))
            .collect();
        let config = parse_nodes_file(&example).unwrap();
        let root = &config.clusters["root"];
        assert_eq!(root.nodes.len(), 5);
        assert_eq!(root.nodes[3].name, "gpu-node-4");
        assert_eq!(root.nodes[4].name, "cpu-node");
        assert_eq!(root.nodes[0].taints[0].key, "nvidia.com/gpu");
    }

    #[test]
    fn huge_counts_are_refused() {
        let err = config_err("clusters:\n  root:\n    nodes: [{namePrefix: n, count: 4000000000}]\n");
        assert_eq!(err, "clusters.root.nodes[0].count: Invalid value: 4000000000: must be at most 100000");
    }

    #[test]
    fn json_is_accepted() {
        let config =
            parse_nodes_file(r#"{"clusters":{"root":{"nodes":[{"name":"n1","cpu":8,"memory":"32Gi","gpus":2}]}}}"#)
                .unwrap();
        assert_eq!(config.clusters["root"].nodes[0].capacity["nvidia.com/gpu"], q("2"));
        let err = parse_err(r#"{"clusters":{"root":{"nodes":[{"name":"n1","cpus":8}]}}}"#);
        assert!(err.contains("unknown field `cpus`"), "{err}");
        assert!(err.contains("line 1"), "{err}");
    }

    #[test]
    fn unknown_keys_are_refused_with_key_and_line() {
        let err = parse_err("clusters:\n  root:\n    nodes:\n      - name: n1\n        gpu: 8\n");
        assert!(err.starts_with("error: line 5 column 9: unknown field `gpu`, expected one of name, "), "{err}");
        let err = parse_err("clusters:\n  root:\n    podCidr: 10.0.0.0/8\n");
        assert!(err.contains("unknown field `podCidr`"), "{err}");
        let err = parse_err("cluster:\n  root: {}\n");
        assert!(err.contains("unknown field `cluster`"), "{err}");
        let err = parse_err(
            "clusters:\n  root:\n    nodes:\n      - name: n1\n        taints: [{key: a, effect: NoSchedule, op: x}]\n",
        );
        assert!(err.contains("unknown field `op`"), "{err}");
        assert!(Error::Parse("x".into()).to_string().starts_with("nodes file: "));
    }

    #[test]
    fn bad_quantities() {
        let err = config_err("clusters:\n  root:\n    nodes:\n      - name: n1\n        cpu: lots\n");
        assert_eq!(
            err,
            "clusters.root.nodes[0].cpu: Invalid value: \"lots\": quantities must match the regular expression \
             '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
        );
        let err = config_err("clusters:\n  root:\n    nodes:\n      - name: n1\n        memory: \"0\"\n");
        assert_eq!(err, "clusters.root.nodes[0].memory: Invalid value: \"0\": must be greater than zero");
        let err =
            config_err("clusters:\n  root:\n    nodes:\n      - name: n1\n        resources: {example.com/x: 500m}\n");
        assert_eq!(
            err,
            "clusters.root.nodes[0].resources[example.com/x]: Invalid value: \"500m\": must be a whole number"
        );
        let err = config_err("clusters:\n  root:\n    nodes:\n      - name: n1\n        resources: {cpus: 1}\n");
        assert!(
            err.starts_with("clusters.root.nodes[0].resources[cpus]: Invalid value: \"cpus\": must be an extended")
        );
    }

    #[test]
    fn duplicate_names_count_zero_and_taint_effects() {
        let err =
            config_err("clusters:\n  root:\n    nodes:\n      - namePrefix: n-\n        count: 2\n      - name: n-2\n");
        assert_eq!(err, "clusters.root.nodes[1].name: Duplicate value: \"n-2\"");
        let err = config_err("clusters:\n  root:\n    nodes:\n      - namePrefix: n-\n        count: 0\n");
        assert_eq!(err, "clusters.root.nodes[0].count: Invalid value: 0: must be at least 1");
        let err = config_err(
            "clusters:\n  root:\n    nodes:\n      - name: n\n        taints: [{key: gpu, effect: NoRun}]\n",
        );
        assert_eq!(
            err,
            "clusters.root.nodes[0].taints[0].effect: Unsupported value: \"NoRun\": supported values: \
             \"NoExecute\", \"NoSchedule\", \"PreferNoSchedule\""
        );
        // The same name in two clusters is fine.
        parse_nodes_file("clusters:\n  a:\n    nodes: [{name: n}]\n  b:\n    nodes: [{name: n}]\n").unwrap();
    }

    #[test]
    fn names_and_structure_errors() {
        let err = config_err("clusters:\n  root:\n    nodes:\n      - cpu: 4\n");
        assert_eq!(err, "clusters.root.nodes[0].name: Required value: name or namePrefix (with count) is required");
        let err = config_err("clusters:\n  root:\n    nodes:\n      - name: Node_1\n");
        assert!(
            err.starts_with("clusters.root.nodes[0].name: Invalid value: \"Node_1\": a lowercase RFC 1123"),
            "{err}"
        );
        let err = config_err("clusters:\n  root:\n    nodes:\n      - {name: a, count: 3}\n");
        assert!(err.starts_with("clusters.root.nodes[0].count: Invalid value: 3: must be 1"), "{err}");
        let err = config_err("clusters:\n  Root:\n    nodes: [{name: a}]\n");
        assert!(err.starts_with("clusters: Invalid value: \"Root\""), "{err}");
        let err = config_err("clusters:\n  root:\n    nodes: [{name: a, labels: {\"bad key!\": x}}]\n");
        assert!(err.starts_with("clusters.root.nodes[0].labels: Invalid value: \"bad key!\""), "{err}");
        let err = config_err("clusters:\n  root:\n    nodes: [{name: a, gpuModel: A100}]\n");
        assert_eq!(err, "clusters.root.nodes[0].gpuModel: Forbidden: may only be set on nodes with gpus");
        // Several problems: one per line.
        let err = config_err("clusters:\n  root:\n    nodes: [{name: a, cpu: x, memory: zz}]\n");
        assert_eq!(err.lines().count(), 2, "{err}");
    }

    #[test]
    fn cidrs_and_sizes() {
        let err = config_err("clusters:\n  root:\n    podCIDR: 10.244.0.1/16\n    nodes: [{name: a}]\n");
        assert_eq!(
            err,
            "clusters.root.podCIDR: Invalid value: \"10.244.0.1/16\": invalid CIDR \"10.244.0.1/16\": expected an \
             IPv4 network such as \"10.244.0.0/16\""
        );
        let err = config_err("clusters:\n  root:\n    podCIDR: 10.0.0.0/23\n    nodes: [{namePrefix: n, count: 3}]\n");
        assert_eq!(
            err,
            "clusters.root.podCIDR: Invalid value: \"10.0.0.0/23\": holds 2 node pod CIDRs of /24 but the cluster \
             has 3 nodes; use a larger range (such as 10.128.0.0/9)"
        );
        let err = config_err("clusters:\n  root:\n    nodes: [{name: a, pods: 300}]\n");
        assert!(err.starts_with("clusters.root.nodes[0].pods: Invalid value: 300: must be at most 253"), "{err}");
        parse_nodes_file("clusters:\n  root:\n    nodeCIDRMaskSize: 22\n    nodes: [{name: a, pods: 1000}]\n").unwrap();
    }

    #[test]
    fn a_thousand_nodes_get_a_larger_default_pod_cidr() {
        let config = parse_nodes_file("clusters:\n  root:\n    nodes: [{namePrefix: n-, count: 1000}]\n").unwrap();
        let root = &config.clusters["root"];
        assert_eq!(root.pod_cidr.to_string(), LARGE_POD_CIDR);
        assert_eq!(root.nodes.len(), 1000);
        assert_eq!(root.nodes[999].name, "n-1000");
        assert_eq!(root.nodes[999].pod_cidr.to_string(), "10.131.231.0/24");
        assert_eq!(root.nodes[999].internal_ip, Ipv4Addr::new(172, 18, 3, 233));
        let names: HashSet<_> = root.nodes.iter().map(|n| n.pod_cidr).collect();
        assert_eq!(names.len(), 1000);
    }
}
