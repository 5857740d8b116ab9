//! `PodSpec` and `PodTemplateSpec`: the defaults of `pkg/apis/core/v1`
//! (`SetDefaults_PodSpec`, `SetDefaults_Pod`, `SetDefaults_Container`, the
//! volume, probe and resource-list defaults and the `+default` markers) and the
//! validation of `pkg/apis/core/validation` (`ValidatePodSpec`,
//! `ValidatePodTemplateSpec`), shared by Pods and every workload template.
//!
//! Covered: containers, init and ephemeral containers (names, images, ports,
//! env, envFrom, volume mounts, pull policy, resources, probes, lifecycle,
//! security context), volumes (names, one source, the common sources' required
//! fields), restart and DNS policies, node selector, tolerations, scheduling
//! gates, topology spread constraints, names of service accounts, nodes, priority
//! classes. Affinity terms and the rarer volume plugins are not validated.

use std::collections::{BTreeMap, BTreeSet};

use kubeplex_core::names::{
    is_dns1123_label, is_dns1123_subdomain, is_label_value, is_qualified_name, name_is_dns_subdomain,
    validate_annotations, validate_label_name, validate_labels,
};
use kubeplex_core::quantity::Quantity;
use serde_json::{Map, Value, json};

use super::field::{
    Errs, Path, at, bool_at, child_obj, duplicate, duplicate_rendered, each_obj_mut, forbidden, int_at, invalid,
    invalid_int, invalid_json, list_at, map_at, nonnegative, not_found, not_supported, required, s, set_default,
    set_default_str, string_map,
};

/// Where a pod spec is being validated.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct PodOpts {
    /// The spec belongs to a Pod (not to a template).
    pub resource_is_pod: bool,
}

const CONTAINER_LISTS: [&str; 3] = ["containers", "initContainers", "ephemeralContainers"];
/// The order `validateVolumeSource` checks the sources in.
const VOLUME_SOURCE_ORDER: &[&str] = &[
    "emptyDir",
    "hostPath",
    "gitRepo",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "secret",
    "nfs",
    "iscsi",
    "glusterfs",
    "flocker",
    "persistentVolumeClaim",
    "rbd",
    "cinder",
    "cephfs",
    "quobyte",
    "downwardAPI",
    "fc",
    "flexVolume",
    "configMap",
    "azureFile",
    "vsphereVolume",
    "photonPersistentDisk",
    "portworxVolume",
    "azureDisk",
    "storageos",
    "projected",
    "scaleIO",
    "csi",
    "ephemeral",
    "image",
];
/// `DefaultTerminationGracePeriodSeconds`.
pub(crate) const DEFAULT_TERMINATION_GRACE_PERIOD: i64 = 30;
/// `TerminationMessagePathDefault`.
pub(crate) const TERMINATION_MESSAGE_PATH: &str = "/dev/termination-log";
/// Default mode of secret, configMap, downwardAPI and projected volumes (0644).
const DEFAULT_VOLUME_MODE: i64 = 0o644;

// ---------------------------------------------------------------- defaults

/// The pull policy `SetDefaults_Container` picks: `Always` for `:latest` or an
/// image without tag and digest, `IfNotPresent` otherwise (and for image
/// references that do not parse, whose tag reads as "").
pub(crate) fn default_pull_policy(image: &str) -> &'static str {
    if image_tag(image).as_deref() == Some("latest") { "Always" } else { "IfNotPresent" }
}

/// The tag `parsers.ParseImageName` reports: `latest` when there is neither a
/// tag nor a digest, "" (None) for a digest-only or unparsable reference.
fn image_tag(image: &str) -> Option<String> {
    if image.is_empty() || image.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return None;
    }
    let (rest, digest) = match image.split_once('@') {
        Some((rest, digest)) => (rest, Some(digest)),
        None => (image, None),
    };
    let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match rest[last_slash..].rfind(':') {
        Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..])),
        None => (rest, None),
    };
    // The path (after a domain with a dot, a colon or "localhost") must be lower case.
    let path = match name.split_once('/') {
        Some((domain, path)) if domain.contains(['.', ':']) || domain == "localhost" => path,
        _ => name,
    };
    if path.is_empty() || path.chars().any(|c| c.is_ascii_uppercase()) {
        return None;
    }
    if let Some(tag) = tag {
        let valid = !tag.is_empty()
            && tag.len() <= 128
            && tag.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
            && !tag.starts_with(['.', '-']);
        return valid.then(|| tag.to_owned());
    }
    match digest {
        Some(_) => None,
        None => Some("latest".to_owned()),
    }
}

/// `SetDefaults_ResourceList`: every quantity rounded up to milli precision and
/// printed in its canonical form (as the API server re-serializes quantities).
/// An empty list is dropped (`omitempty` maps do not serialize).
pub(crate) fn default_resource_list(map: &mut Map<String, Value>, key: &str) {
    if map.get(key).and_then(Value::as_object).is_some_and(Map::is_empty) {
        map.remove(key);
        return;
    }
    let Some(list) = map.get_mut(key).and_then(Value::as_object_mut) else { return };
    for value in list.values_mut() {
        if let Some(q) = parse_quantity(value) {
            *value = Value::String(round_to_milli(&q).to_string());
        }
    }
}

fn parse_quantity(value: &Value) -> Option<Quantity> {
    match value {
        Value::String(s) => Quantity::parse(s).ok(),
        Value::Number(n) => Quantity::parse(&n.to_string()).ok(),
        _ => None,
    }
}

/// `Quantity.RoundUp(-3)`.
fn round_to_milli(q: &Quantity) -> Quantity {
    let milli = Quantity::from_milli(q.milli_value(), q.format());
    if &milli == q { q.clone() } else { milli }
}

/// Defaults of a `PodSpec` (`SetDefaults_PodSpec` and everything nested);
/// `is_pod` adds `SetDefaults_Pod`, which only Pods get (not templates).
pub(crate) fn default_pod_spec(spec: &mut Map<String, Value>, is_pod: bool) {
    if is_pod {
        default_pod_only(spec);
    }
    set_default_str(spec, "dnsPolicy", "ClusterFirst");
    set_default_str(spec, "restartPolicy", "Always");
    set_default(spec, "securityContext", json!({}));
    set_default(spec, "terminationGracePeriodSeconds", json!(DEFAULT_TERMINATION_GRACE_PERIOD));
    set_default_str(spec, "schedulerName", "default-scheduler");
    // `serviceAccount` is the deprecated alias of `serviceAccountName`: the
    // conversion fills each from the other.
    let sa_name = spec.get("serviceAccountName").and_then(Value::as_str).unwrap_or("").to_owned();
    let sa = spec.get("serviceAccount").and_then(Value::as_str).unwrap_or("").to_owned();
    if sa_name.is_empty() && !sa.is_empty() {
        spec.insert("serviceAccountName".into(), json!(sa));
    } else if !sa_name.is_empty() {
        spec.insert("serviceAccount".into(), json!(sa_name));
    }
    for volume in each_obj_mut(spec, "volumes") {
        default_volume(volume);
    }
    for list in CONTAINER_LISTS {
        for container in each_obj_mut(spec, list) {
            default_container(container);
        }
    }
    super::field::sort_map(spec, "nodeSelector");
    for secret in each_obj_mut(spec, "imagePullSecrets") {
        set_default(secret, "name", json!(""));
    }
    default_resource_list(spec, "overhead");
    if let Some(resources) = spec.get_mut("resources").and_then(Value::as_object_mut) {
        default_resource_list(resources, "limits");
        default_resource_list(resources, "requests");
    }
}

/// `SetDefaults_Pod`: requests default to limits, pod-level requests,
/// `enableServiceLinks`, host ports under host networking. (Resize policies
/// are no longer defaulted since 1.33.)
fn default_pod_only(spec: &mut Map<String, Value>) {
    for list in ["containers", "initContainers"] {
        for container in each_obj_mut(spec, list) {
            let Some(resources) = child_obj(container, "resources") else { continue };
            if let Some(limits) = resources.get("limits").and_then(Value::as_object).cloned()
                && let Some(requests) = child_obj(resources, "requests")
            {
                for (k, v) in limits {
                    requests.entry(k).or_insert(v);
                }
            }
        }
    }
    default_pod_requests(spec);
    set_default(spec, "enableServiceLinks", json!(true));
    if spec.get("hostNetwork").and_then(Value::as_bool) == Some(true) {
        for list in ["containers", "initContainers"] {
            for container in each_obj_mut(spec, list) {
                for port in each_obj_mut(container, "ports") {
                    if port.get("hostPort").and_then(Value::as_i64).unwrap_or(0) == 0
                        && let Some(cp) = port.get("containerPort").cloned()
                    {
                        port.insert("hostPort".into(), cp);
                    }
                }
            }
        }
    }
}

/// `defaultPodRequests`: with pod-level limits, a missing pod-level request
/// defaults to the containers' aggregate request for that resource (regular
/// and sidecar containers summed, at least any other init container's), or to
/// the pod-level limit when no container requests it.
fn default_pod_requests(spec: &mut Map<String, Value>) {
    let requests_of = |c: &Value| -> Vec<(String, Quantity)> {
        c["resources"]["requests"]
            .as_object()
            .into_iter()
            .flatten()
            .filter_map(|(k, v)| parse_quantity(v).map(|q| (k.clone(), q)))
            .collect()
    };
    let mut aggregate: BTreeMap<String, Quantity> = BTreeMap::new();
    let add = |agg: &mut BTreeMap<String, Quantity>, list: Vec<(String, Quantity)>| {
        for (k, q) in list {
            let sum = match agg.get(&k) {
                Some(existing) => existing.checked_add(&q).unwrap_or(q),
                None => q,
            };
            agg.insert(k, sum);
        }
    };
    let containers = spec.get("containers").and_then(Value::as_array).cloned().unwrap_or_default();
    let inits = spec.get("initContainers").and_then(Value::as_array).cloned().unwrap_or_default();
    for c in &containers {
        add(&mut aggregate, requests_of(c));
    }
    let mut sidecars: BTreeMap<String, Quantity> = BTreeMap::new();
    for c in &inits {
        if c["restartPolicy"] == "Always" {
            add(&mut aggregate, requests_of(c));
            add(&mut sidecars, requests_of(c));
        } else {
            let mut this = sidecars.clone();
            add(&mut this, requests_of(c));
            for (k, q) in this {
                if aggregate.get(&k).is_none_or(|a| &q > a) {
                    aggregate.insert(k, q);
                }
            }
        }
    }
    let Some(resources) = spec.get_mut("resources").and_then(Value::as_object_mut) else { return };
    let Some(limits) = resources.get("limits").and_then(Value::as_object).filter(|l| !l.is_empty()).cloned() else {
        return;
    };
    let Some(requests) = child_obj(resources, "requests") else { return };
    let supported = |k: &str| k == "cpu" || k == "memory" || k.starts_with("hugepages-");
    for (k, q) in aggregate {
        if supported(&k) && !requests.contains_key(&k) {
            requests.insert(k, Value::String(q.to_string()));
        }
    }
    for (k, v) in limits {
        if supported(&k) {
            requests.entry(k).or_insert(v);
        }
    }
}

/// `SetDefaults_Container` plus the nested defaults of a container.
fn default_container(c: &mut Map<String, Value>) {
    let image = c.get("image").and_then(Value::as_str).unwrap_or("").to_owned();
    set_default_str(c, "imagePullPolicy", default_pull_policy(&image));
    set_default_str(c, "terminationMessagePath", TERMINATION_MESSAGE_PATH);
    set_default_str(c, "terminationMessagePolicy", "File");
    for port in each_obj_mut(c, "ports") {
        set_default_str(port, "protocol", "TCP");
    }
    for env in each_obj_mut(c, "env") {
        if let Some(from) = env.get_mut("valueFrom").and_then(Value::as_object_mut) {
            if let Some(field_ref) = from.get_mut("fieldRef").and_then(Value::as_object_mut) {
                set_default_str(field_ref, "apiVersion", "v1");
            }
            for key in ["configMapKeyRef", "secretKeyRef"] {
                if let Some(r) = from.get_mut(key).and_then(Value::as_object_mut) {
                    set_default(r, "name", json!(""));
                }
            }
        }
    }
    for env_from in each_obj_mut(c, "envFrom") {
        for key in ["configMapRef", "secretRef"] {
            if let Some(r) = env_from.get_mut(key).and_then(Value::as_object_mut) {
                set_default(r, "name", json!(""));
            }
        }
    }
    if let Some(resources) = child_obj(c, "resources") {
        default_resource_list(resources, "limits");
        default_resource_list(resources, "requests");
    }
    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
        if let Some(p) = c.get_mut(probe).and_then(Value::as_object_mut) {
            for (key, default) in
                [("timeoutSeconds", 1), ("periodSeconds", 10), ("successThreshold", 1), ("failureThreshold", 3)]
            {
                if p.get(key).and_then(Value::as_i64).unwrap_or(0) == 0 {
                    p.insert(key.into(), json!(default));
                }
            }
            default_handler(p);
            if let Some(grpc) = p.get_mut("grpc").and_then(Value::as_object_mut) {
                set_default(grpc, "service", json!(""));
            }
        }
    }
    if let Some(lifecycle) = c.get_mut("lifecycle").and_then(Value::as_object_mut) {
        for hook in ["postStart", "preStop"] {
            if let Some(h) = lifecycle.get_mut(hook).and_then(Value::as_object_mut) {
                default_handler(h);
            }
        }
    }
}

/// `SetDefaults_HTTPGetAction`.
fn default_handler(handler: &mut Map<String, Value>) {
    if let Some(get) = handler.get_mut("httpGet").and_then(Value::as_object_mut) {
        set_default_str(get, "path", "/");
        set_default_str(get, "scheme", "HTTP");
    }
}

fn default_field_ref_items(source: &mut Map<String, Value>) {
    for item in each_obj_mut(source, "items") {
        if let Some(field_ref) = item.get_mut("fieldRef").and_then(Value::as_object_mut) {
            set_default_str(field_ref, "apiVersion", "v1");
        }
    }
}

/// `SetDefaults_Volume` and the volume sources' defaults.
fn default_volume(v: &mut Map<String, Value>) {
    if !VOLUME_SOURCE_ORDER.iter().any(|k| v.get(*k).is_some_and(|s| !s.is_null())) {
        v.insert("emptyDir".into(), json!({}));
    }
    for key in ["secret", "configMap"] {
        if let Some(src) = v.get_mut(key).and_then(Value::as_object_mut) {
            set_default(src, "defaultMode", json!(DEFAULT_VOLUME_MODE));
        }
    }
    if let Some(src) = v.get_mut("downwardAPI").and_then(Value::as_object_mut) {
        set_default(src, "defaultMode", json!(DEFAULT_VOLUME_MODE));
        default_field_ref_items(src);
    }
    if let Some(src) = v.get_mut("projected").and_then(Value::as_object_mut) {
        set_default(src, "defaultMode", json!(DEFAULT_VOLUME_MODE));
        for source in each_obj_mut(src, "sources") {
            if let Some(token) = source.get_mut("serviceAccountToken").and_then(Value::as_object_mut) {
                set_default(token, "expirationSeconds", json!(3600));
            }
            if let Some(d) = source.get_mut("downwardAPI").and_then(Value::as_object_mut) {
                default_field_ref_items(d);
            }
        }
    }
    if let Some(src) = v.get_mut("hostPath").and_then(Value::as_object_mut) {
        set_default(src, "type", json!(""));
    }
    if let Some(src) = v.get_mut("iscsi").and_then(Value::as_object_mut) {
        set_default_str(src, "iscsiInterface", "default");
    }
    if let Some(src) = v.get_mut("rbd").and_then(Value::as_object_mut) {
        set_default_str(src, "pool", "rbd");
        set_default_str(src, "user", "admin");
        set_default_str(src, "keyring", "/etc/ceph/keyring");
    }
    if let Some(src) = v.get_mut("azureDisk").and_then(Value::as_object_mut) {
        set_default(src, "cachingMode", json!("ReadWrite"));
        set_default(src, "kind", json!("Shared"));
        set_default(src, "fsType", json!("ext4"));
        set_default(src, "readOnly", json!(false));
    }
    if let Some(src) = v.get_mut("scaleIO").and_then(Value::as_object_mut) {
        set_default_str(src, "storageMode", "ThinProvisioned");
        set_default_str(src, "fsType", "xfs");
    }
    if let Some(src) = v.get_mut("image").and_then(Value::as_object_mut) {
        let reference = src.get("reference").and_then(Value::as_str).unwrap_or("").to_owned();
        set_default_str(src, "pullPolicy", default_pull_policy(&reference));
    }
    if let Some(spec) = v
        .get_mut("ephemeral")
        .and_then(|e| e.get_mut("volumeClaimTemplate"))
        .and_then(|t| t.get_mut("spec"))
        .and_then(Value::as_object_mut)
    {
        set_default(spec, "volumeMode", json!("Filesystem"));
        if let Some(resources) = spec.get_mut("resources").and_then(Value::as_object_mut) {
            default_resource_list(resources, "limits");
            default_resource_list(resources, "requests");
        }
    }
}

/// Defaults of a `PodTemplateSpec` (`template.metadata` and `template.spec`).
/// A `creationTimestamp: null` in the template's metadata is dropped, as the
/// API server does not serialize a zero creation time.
pub(crate) fn default_template(template: &mut Map<String, Value>) {
    if let Some(meta) = child_obj(template, "metadata")
        && meta.get("creationTimestamp").is_some_and(Value::is_null)
    {
        meta.remove("creationTimestamp");
    }
    if let Some(spec) = child_obj(template, "spec") {
        default_pod_spec(spec, false);
    }
}

/// The first quantity that does not parse, as the decode error upstream
/// reports before validation runs.
pub(crate) fn bad_quantity(spec: &Value) -> Option<String> {
    let mut lists: Vec<&Value> = Vec::new();
    for list in CONTAINER_LISTS {
        for c in list_at(spec, &[list]) {
            lists.extend(at(c, &["resources", "limits"]));
            lists.extend(at(c, &["resources", "requests"]));
        }
    }
    lists.extend(at(spec, &["overhead"]));
    lists.extend(at(spec, &["resources", "limits"]));
    lists.extend(at(spec, &["resources", "requests"]));
    let mut values: Vec<&Value> = lists.iter().filter_map(|l| l.as_object()).flat_map(|m| m.values()).collect();
    for v in list_at(spec, &["volumes"]) {
        values.extend(at(v, &["emptyDir", "sizeLimit"]));
    }
    values.into_iter().find_map(|v| match v {
        Value::String(s) => Quantity::parse(s).err().map(|e| e.to_string()),
        Value::Number(n) => Quantity::parse(&n.to_string()).err().map(|e| e.to_string()),
        _ => None,
    })
}

// -------------------------------------------------------------- validation

/// `ValidatePodTemplateSpec`.
pub(crate) fn validate_template(template: &Value, path: &Path) -> Errs {
    let mut errs = validate_labels(string_map(template, &["metadata", "labels"]), path.child("labels").as_str());
    errs.extend(validate_annotations(
        string_map(template, &["metadata", "annotations"]),
        path.child("annotations").as_str(),
    ));
    let empty = json!({});
    let spec = at(template, &["spec"]).unwrap_or(&empty);
    errs.extend(validate_pod_spec(spec, None, &path.child("spec"), PodOpts::default()));
    if !list_at(spec, &["ephemeralContainers"]).is_empty() {
        errs.push(forbidden(
            &path.child("spec.ephemeralContainers"),
            "ephemeral containers not allowed in pod template",
        ));
    }
    errs
}

/// `ValidatePodSpec`. `pod_name` is the Pod's name, for ephemeral volumes.
pub(crate) fn validate_pod_spec(spec: &Value, pod_name: Option<&str>, p: &Path, opts: PodOpts) -> Errs {
    let mut errs = Errs::new();
    let grace = int_at(spec, &["terminationGracePeriodSeconds"]);
    if grace.is_none() {
        errs.push(required(&p.child("terminationGracePeriodSeconds"), ""));
    }
    let restart_policy = s(spec, &["restartPolicy"]);
    let volumes = validate_volumes(spec, pod_name, &p.child("volumes"), &mut errs);
    let ctx = ContainerCtx { volumes: &volumes, grace, restart_policy };
    validate_containers(spec, &ctx, &p.child("containers"), &mut errs);
    validate_init_containers(spec, &ctx, &p.child("initContainers"), &mut errs);
    validate_ephemeral_containers(spec, &ctx, &p.child("ephemeralContainers"), &mut errs);
    if let Some(resources) = at(spec, &["resources"]) {
        validate_resources(resources, &p.child("resources"), ResourceScope::Pod, &mut errs);
    }
    validate_host_network_deps(spec, p, opts, &mut errs);
    match restart_policy {
        "Always" | "OnFailure" | "Never" => {}
        "" => errs.push(required(&p.child("restartPolicy"), "")),
        other => errs.push(not_supported(&p.child("restartPolicy"), other, &["Always", "OnFailure", "Never"])),
    }
    let dns_policy = s(spec, &["dnsPolicy"]);
    match dns_policy {
        "ClusterFirstWithHostNet" | "ClusterFirst" | "Default" | "None" => {}
        "" => errs.push(required(&p.child("dnsPolicy"), "")),
        other => errs.push(not_supported(
            &p.child("dnsPolicy"),
            other,
            &["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"],
        )),
    }
    errs.extend(validate_labels(string_map(spec, &["nodeSelector"]), p.child("nodeSelector").as_str()));
    if let Some(sc) = at(spec, &["securityContext"]) {
        validate_pod_security_context(sc, &p.child("securityContext"), &mut errs);
    }
    for (i, secret) in list_at(spec, &["imagePullSecrets"]).iter().enumerate() {
        if secret.as_object().is_some_and(|m| m.keys().any(|k| k != "name")) {
            errs.push(invalid_json(&p.child("imagePullSecrets").index(i), secret, "only name may be set"));
        }
    }
    validate_dns_config(spec, dns_policy, &p.child("dnsConfig"), &mut errs);
    for (i, gate) in list_at(spec, &["readinessGates"]).iter().enumerate() {
        let path = p.child("readinessGates").index(i).child("conditionType");
        let ct = s(gate, &["conditionType"]);
        for msg in is_qualified_name(ct) {
            errs.push(invalid(&path, ct, &msg));
        }
    }
    let mut seen_gates = BTreeSet::new();
    for (i, gate) in list_at(spec, &["schedulingGates"]).iter().enumerate() {
        let path = p.child("schedulingGates").index(i);
        let name = s(gate, &["name"]);
        for msg in is_qualified_name(name) {
            errs.push(invalid(&path, name, &msg));
        }
        if !seen_gates.insert(name) {
            errs.push(duplicate(&path, name));
        }
    }
    validate_topology_spread(spec, &p.child("topologySpreadConstraints"), &mut errs);
    name_field(spec, "serviceAccountName", p, &mut errs);
    name_field(spec, "nodeName", p, &mut errs);
    if let Some(ads) = int_at(spec, &["activeDeadlineSeconds"])
        && !(1..=i64::from(i32::MAX)).contains(&ads)
    {
        errs.push(invalid_int(&p.child("activeDeadlineSeconds"), ads, "must be between 1 and 2147483647, inclusive"));
    }
    for field in ["hostname", "subdomain"] {
        let value = s(spec, &[field]);
        if !value.is_empty() {
            dns_label(value, &p.child(field), &mut errs);
        }
    }
    validate_tolerations(list_at(spec, &["tolerations"]), &p.child("tolerations"), &mut errs);
    name_field(spec, "priorityClassName", p, &mut errs);
    if let Some(rc) = str_or_null(spec, "runtimeClassName") {
        for msg in name_is_dns_subdomain(rc, false) {
            errs.push(invalid(&p.child("runtimeClassName"), rc, &msg));
        }
    }
    if let Some(policy) = str_or_null(spec, "preemptionPolicy") {
        match policy {
            "PreemptLowerPriority" | "Never" => {}
            "" => errs.push(required(&p.child("preemptionPolicy"), "")),
            other => errs.push(not_supported(&p.child("preemptionPolicy"), other, &["PreemptLowerPriority", "Never"])),
        }
    }
    if let Some(overhead) = at(spec, &["overhead"]) {
        validate_resource_list(overhead, &p.child("overhead").child("limits"), ResourceScope::Container, &mut errs);
    }
    if let Some(os) = at(spec, &["os"]) {
        match s(os, &["name"]) {
            "" => errs.push(required(&p.child("os").child("name"), "cannot be empty")),
            "linux" | "windows" => {}
            other => errs.push(not_supported(&p.child("os"), other, &["linux", "windows"])),
        }
    }
    errs
}

/// A string field that is present (possibly empty) or absent.
fn str_or_null<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    at(v, &[key]).and_then(Value::as_str)
}

/// A name field validated as a DNS-1123 subdomain when set.
fn name_field(spec: &Value, field: &str, p: &Path, errs: &mut Errs) {
    let value = s(spec, &[field]);
    if !value.is_empty() {
        for msg in name_is_dns_subdomain(value, false) {
            errs.push(invalid(&p.child(field), value, &msg));
        }
    }
}

/// `ValidateDNS1123Label`.
pub(crate) fn dns_label(value: &str, path: &Path, errs: &mut Errs) {
    for msg in is_dns1123_label(value) {
        errs.push(invalid(path, value, &msg));
    }
}

/// Volume name to whether its source is a claim (PVC or ephemeral).
type Volumes = BTreeMap<String, bool>;

fn validate_volumes(spec: &Value, pod_name: Option<&str>, p: &Path, errs: &mut Errs) -> Volumes {
    let mut vols = Volumes::new();
    for (i, vol) in list_at(spec, &["volumes"]).iter().enumerate() {
        let idx = p.index(i);
        let name = s(vol, &["name"]);
        let mut el = validate_volume_source(vol, &idx, name, pod_name);
        if name.is_empty() {
            el.push(required(&idx.child("name"), ""));
        } else {
            dns_label(name, &idx.child("name"), &mut el);
        }
        if vols.contains_key(name) {
            el.push(duplicate(&idx.child("name"), name));
        }
        if el.is_empty() {
            let claim = at(vol, &["persistentVolumeClaim"]).is_some() || at(vol, &["ephemeral"]).is_some();
            vols.insert(name.to_owned(), claim);
        } else {
            errs.extend(el);
        }
    }
    vols
}

fn validate_volume_source(vol: &Value, p: &Path, name: &str, pod_name: Option<&str>) -> Errs {
    let mut errs = Errs::new();
    let mut count = 0;
    for source in VOLUME_SOURCE_ORDER {
        let Some(src) = at(vol, &[source]) else { continue };
        // Upstream names this path with a typo.
        let label = if *source == "downwardAPI" { "downwarAPI" } else { source };
        if count > 0 {
            errs.push(forbidden(&p.child(label), "may not specify more than 1 volume type"));
            continue;
        }
        count += 1;
        let sp = p.child(source);
        match *source {
            "emptyDir"
                if at(src, &["sizeLimit"])
                    .and_then(parse_quantity)
                    .is_some_and(|q| q.sign() == std::cmp::Ordering::Less) =>
            {
                errs.push(forbidden(&sp.child("sizeLimit"), "SizeLimit field must be a valid resource quantity"));
            }
            "hostPath" => {
                let path = s(src, &["path"]);
                if path.is_empty() {
                    errs.push(required(&sp.child("path"), ""));
                } else {
                    no_backsteps(path, &sp.child("path"), &mut errs);
                    let supported = [
                        "",
                        "BlockDevice",
                        "CharDevice",
                        "Directory",
                        "DirectoryOrCreate",
                        "File",
                        "FileOrCreate",
                        "Socket",
                    ];
                    if let Some(t) = str_or_null(src, "type")
                        && !supported.contains(&t)
                    {
                        errs.push(not_supported(&sp.child("type"), t, &supported));
                    }
                }
            }
            "secret" => {
                if s(src, &["secretName"]).is_empty() {
                    errs.push(required(&sp.child("secretName"), ""));
                }
                file_mode(src, "defaultMode", &sp, &mut errs);
                key_to_paths(src, &sp, &mut errs);
            }
            "configMap" => {
                if s(src, &["name"]).is_empty() {
                    errs.push(required(&sp.child("name"), ""));
                }
                file_mode(src, "defaultMode", &sp, &mut errs);
                key_to_paths(src, &sp, &mut errs);
            }
            "persistentVolumeClaim" if s(src, &["claimName"]).is_empty() => {
                errs.push(required(&sp.child("claimName"), ""));
            }
            "nfs" => {
                if s(src, &["server"]).is_empty() {
                    errs.push(required(&sp.child("server"), ""));
                }
                let path = s(src, &["path"]);
                if path.is_empty() {
                    errs.push(required(&sp.child("path"), ""));
                }
                if !path.starts_with('/') {
                    errs.push(invalid(&sp.child("path"), path, "must be an absolute path"));
                }
            }
            "downwardAPI" => {
                file_mode(src, "defaultMode", &sp, &mut errs);
                for item in list_at(src, &["items"]) {
                    let path = s(item, &["path"]);
                    if path.is_empty() {
                        errs.push(required(&sp.child("path"), ""));
                    }
                    local_non_reserved_path(path, &sp.child("path"), &mut errs);
                    if at(item, &["fieldRef"]).is_none() && at(item, &["resourceFieldRef"]).is_none() {
                        errs.push(required(&sp, "one of fieldRef and resourceFieldRef is required"));
                    }
                    file_mode(item, "mode", &sp, &mut errs);
                }
            }
            "projected" => {
                file_mode(src, "defaultMode", &sp, &mut errs);
                for (j, source) in list_at(src, &["sources"]).iter().enumerate() {
                    let kinds = [
                        "secret",
                        "configMap",
                        "downwardAPI",
                        "serviceAccountToken",
                        "clusterTrustBundle",
                        "podCertificate",
                    ];
                    if kinds.iter().filter(|k| at(source, &[**k]).is_some()).count() > 1 {
                        errs.push(forbidden(
                            &sp.child("sources").index(j),
                            "may not specify more than 1 volume type per source",
                        ));
                    }
                    if let Some(token) = at(source, &["serviceAccountToken"]) {
                        let tp = sp.child("sources").index(j).child("serviceAccountToken");
                        let exp = int_at(token, &["expirationSeconds"]).unwrap_or(0);
                        token_expiration(exp, &tp.child("expirationSeconds"), &mut errs);
                        let path = s(token, &["path"]);
                        if path.is_empty() {
                            errs.push(required(&sp.child("path"), ""));
                        } else {
                            local_non_reserved_path(path, &sp.child("path"), &mut errs);
                        }
                    }
                }
            }
            "ephemeral" => {
                if at(src, &["volumeClaimTemplate"]).is_none() {
                    errs.push(required(&sp.child("volumeClaimTemplate"), ""));
                }
                if let Some(pod) = pod_name.filter(|n| !n.is_empty())
                    && !name.is_empty()
                {
                    let pvc = format!("{pod}-{name}");
                    for msg in name_is_dns_subdomain(&pvc, false) {
                        errs.push(invalid(&p.child("name"), name, &format!("PVC name {pvc:?}: {msg}")));
                    }
                }
            }
            "csi" if s(src, &["driver"]).is_empty() => {
                errs.push(required(&sp.child("driver"), ""));
            }
            _ => {}
        }
    }
    if count == 0 {
        errs.push(required(p, "must specify a volume type"));
    }
    errs
}

/// A file mode in 0..=0777.
fn file_mode(src: &Value, key: &str, p: &Path, errs: &mut Errs) {
    if let Some(mode) = int_at(src, &[key])
        && !(0..=0o777).contains(&mode)
    {
        errs.push(invalid_int(&p.child(key), mode, "must be a number between 0 and 0777 (octal), both inclusive"));
    }
}

/// `validateKeyToPath` for every `items[i]`.
fn key_to_paths(src: &Value, p: &Path, errs: &mut Errs) {
    for (i, item) in list_at(src, &["items"]).iter().enumerate() {
        let ip = p.child("items").index(i);
        if s(item, &["key"]).is_empty() {
            errs.push(required(&ip.child("key"), ""));
        }
        let path = s(item, &["path"]);
        if path.is_empty() {
            errs.push(required(&ip.child("path"), ""));
        }
        local_non_reserved_path(path, &ip.child("path"), errs);
        file_mode(item, "mode", &ip, errs);
    }
}

/// `validatePathNoBacksteps`.
fn no_backsteps(path: &str, p: &Path, errs: &mut Errs) {
    if path.replace('\\', "/").split('/').any(|part| part == "..") {
        errs.push(invalid(p, path, "must not contain '..'"));
    }
}

/// `validateLocalDescendingPath`.
fn local_descending_path(path: &str, p: &Path, errs: &mut Errs) {
    if path.starts_with('/') {
        errs.push(invalid(p, path, "must be a relative path"));
    }
    no_backsteps(path, p, errs);
}

/// `ValidateLocalNonReservedPath`.
fn local_non_reserved_path(path: &str, p: &Path, errs: &mut Errs) {
    local_descending_path(path, p, errs);
    if path.starts_with("..") && !path.starts_with("../") {
        errs.push(invalid(p, path, "must not start with '..'"));
    }
}

struct ContainerCtx<'a> {
    volumes: &'a Volumes,
    grace: Option<i64>,
    restart_policy: &'a str,
}

fn validate_containers(spec: &Value, ctx: &ContainerCtx<'_>, p: &Path, errs: &mut Errs) {
    let containers = list_at(spec, &["containers"]);
    if containers.is_empty() {
        errs.push(required(p, ""));
        return;
    }
    let mut names = BTreeSet::new();
    for (i, c) in containers.iter().enumerate() {
        let cp = p.index(i);
        validate_container_common(c, ctx, &cp, errs);
        let name = s(c, &["name"]);
        if !names.insert(name) {
            errs.push(duplicate(&cp.child("name"), name));
        }
        if let Some(lifecycle) = at(c, &["lifecycle"]) {
            validate_lifecycle(lifecycle, ctx.grace, &cp.child("lifecycle"), errs);
        }
        validate_probe(c, "livenessProbe", ctx.grace, &cp, errs);
        validate_probe(c, "readinessProbe", ctx.grace, &cp, errs);
        validate_probe(c, "startupProbe", ctx.grace, &cp, errs);
        if at(c, &["restartPolicy"]).is_some() {
            errs.push(forbidden(&cp.child("restartPolicy"), "may not be set for non-init containers"));
        }
    }
    host_port_conflicts(containers, p, errs);
}

fn validate_init_containers(spec: &Value, ctx: &ContainerCtx<'_>, p: &Path, errs: &mut Errs) {
    let mut names: BTreeSet<&str> = list_at(spec, &["containers"]).iter().map(|c| s(c, &["name"])).collect();
    for (i, c) in list_at(spec, &["initContainers"]).iter().enumerate() {
        let cp = p.index(i);
        validate_container_common(c, ctx, &cp, errs);
        let mut restart_always = false;
        if let Some(policy) = str_or_null(c, "restartPolicy") {
            if policy == "Always" {
                restart_always = true;
            } else {
                errs.push(not_supported(&cp.child("restartPolicy"), policy, &["Always"]));
            }
        }
        let name = s(c, &["name"]);
        if names.contains(name) {
            errs.push(duplicate(&cp.child("name"), name));
        } else if !name.is_empty() {
            names.insert(name);
        }
        host_port_conflicts(std::slice::from_ref(c), p, errs);
        if restart_always {
            if let Some(lifecycle) = at(c, &["lifecycle"]) {
                validate_lifecycle(lifecycle, ctx.grace, &cp.child("lifecycle"), errs);
            }
            validate_probe(c, "livenessProbe", ctx.grace, &cp, errs);
            validate_probe(c, "readinessProbe", ctx.grace, &cp, errs);
            validate_probe(c, "startupProbe", ctx.grace, &cp, errs);
        } else {
            for field in ["lifecycle", "livenessProbe", "readinessProbe", "startupProbe"] {
                if at(c, &[field]).is_some() {
                    errs.push(forbidden(
                        &cp.child(field),
                        "may not be set for init containers without restartPolicy=Always",
                    ));
                }
            }
        }
    }
}

fn validate_ephemeral_containers(spec: &Value, ctx: &ContainerCtx<'_>, p: &Path, errs: &mut Errs) {
    let ephemeral = list_at(spec, &["ephemeralContainers"]);
    if ephemeral.is_empty() {
        return;
    }
    let others: BTreeSet<&str> = ["containers", "initContainers"]
        .iter()
        .flat_map(|l| list_at(spec, &[l]).iter().map(|c| s(c, &["name"])))
        .collect();
    let mut all = others.clone();
    for (i, c) in ephemeral.iter().enumerate() {
        let cp = p.index(i);
        validate_container_common(c, ctx, &cp, errs);
        image_whitespace(c, &cp, errs);
        let name = s(c, &["name"]);
        if !all.insert(name) {
            errs.push(duplicate(&cp.child("name"), name));
        }
        let target = s(c, &["targetContainerName"]);
        if !target.is_empty() && !others.contains(target) {
            errs.push(not_found(&cp.child("targetContainerName"), target));
        }
        for field in ["ports", "resources", "livenessProbe", "readinessProbe", "startupProbe", "lifecycle"] {
            let set = match at(c, &[field]) {
                None => false,
                Some(Value::Object(m)) => !m.is_empty(),
                Some(Value::Array(a)) => !a.is_empty(),
                Some(_) => true,
            };
            if set {
                errs.push(forbidden(&cp.child(field), "cannot be set for an Ephemeral Container"));
            }
        }
    }
}

/// `validateContainerOnlyForPod`: no whitespace around the image.
pub(crate) fn image_whitespace(c: &Value, p: &Path, errs: &mut Errs) {
    let image = s(c, &["image"]);
    if image.trim() != image {
        errs.push(invalid(&p.child("image"), image, "must not have leading or trailing whitespace"));
    }
}

/// `validateContainerCommon`.
fn validate_container_common(c: &Value, ctx: &ContainerCtx<'_>, p: &Path, errs: &mut Errs) {
    let name = s(c, &["name"]);
    if name.is_empty() {
        errs.push(required(&p.child("name"), ""));
    } else {
        dns_label(name, &p.child("name"), errs);
    }
    if s(c, &["image"]).is_empty() {
        errs.push(required(&p.child("image"), ""));
    }
    match s(c, &["terminationMessagePolicy"]) {
        "File" | "FallbackToLogsOnError" => {}
        "" => errs.push(required(&p.child("terminationMessagePolicy"), "")),
        other => {
            errs.push(not_supported(&p.child("terminationMessagePolicy"), other, &["File", "FallbackToLogsOnError"]))
        }
    }
    validate_ports(list_at(c, &["ports"]), &p.child("ports"), errs);
    validate_env(list_at(c, &["env"]), &p.child("env"), errs);
    validate_env_from(list_at(c, &["envFrom"]), &p.child("envFrom"), errs);
    validate_volume_mounts(c, ctx.volumes, &p.child("volumeMounts"), errs);
    validate_volume_devices(c, ctx.volumes, &p.child("volumeDevices"), errs);
    match s(c, &["imagePullPolicy"]) {
        "Always" | "IfNotPresent" | "Never" => {}
        "" => errs.push(required(&p.child("imagePullPolicy"), "")),
        other => errs.push(not_supported(&p.child("imagePullPolicy"), other, &["Always", "IfNotPresent", "Never"])),
    }
    if let Some(resources) = at(c, &["resources"]) {
        validate_resources(resources, &p.child("resources"), ResourceScope::Container, errs);
    }
    validate_resize_policy(list_at(c, &["resizePolicy"]), &p.child("resizePolicy"), ctx.restart_policy, errs);
    if let Some(sc) = at(c, &["securityContext"]) {
        validate_security_context(sc, &p.child("securityContext"), errs);
    }
}

/// `IsValidPortName`.
pub(crate) fn port_name_errors(name: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if name.len() > 15 {
        errs.push("must be no more than 15 characters".to_owned());
    }
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
        errs.push("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)".to_owned());
    }
    if !name.bytes().any(|b| b.is_ascii_lowercase()) {
        errs.push("must contain at least one letter (a-z)".to_owned());
    }
    if name.contains("--") {
        errs.push("must not contain consecutive hyphens".to_owned());
    }
    if name.starts_with('-') || name.ends_with('-') {
        errs.push("must not begin or end with a hyphen".to_owned());
    }
    errs
}

/// `IsValidPortNum` message for an out-of-range port.
pub(crate) const PORT_RANGE: &str = "must be between 1 and 65535, inclusive";

/// `ValidatePortNumOrName` for an `IntOrString` port.
pub(crate) fn port_num_or_name(value: Option<&Value>, p: &Path, errs: &mut Errs) {
    match value {
        Some(Value::String(name)) => {
            for msg in port_name_errors(name) {
                errs.push(invalid(p, name, &msg));
            }
        }
        Some(Value::Number(n)) => {
            let n = n.as_i64().unwrap_or(0);
            if !(1..=65535).contains(&n) {
                errs.push(invalid_int(p, n, PORT_RANGE));
            }
        }
        _ => errs.push(invalid_int(p, 0, PORT_RANGE)),
    }
}

fn validate_ports(ports: &[Value], p: &Path, errs: &mut Errs) {
    let mut names = BTreeSet::new();
    for (i, port) in ports.iter().enumerate() {
        let pp = p.index(i);
        let name = s(port, &["name"]);
        if !name.is_empty() {
            let msgs = port_name_errors(name);
            if !msgs.is_empty() {
                for msg in msgs {
                    errs.push(invalid(&pp.child("name"), name, &msg));
                }
            } else if !names.insert(name) {
                errs.push(duplicate(&pp.child("name"), name));
            }
        }
        let container_port = int_at(port, &["containerPort"]).unwrap_or(0);
        if container_port == 0 {
            errs.push(required(&pp.child("containerPort"), ""));
        } else if !(1..=65535).contains(&container_port) {
            errs.push(invalid_int(&pp.child("containerPort"), container_port, PORT_RANGE));
        }
        let host_port = int_at(port, &["hostPort"]).unwrap_or(0);
        if host_port != 0 && !(1..=65535).contains(&host_port) {
            errs.push(invalid_int(&pp.child("hostPort"), host_port, PORT_RANGE));
        }
        protocol(port, &pp.child("protocol"), errs);
    }
}

/// A port protocol: required, one of SCTP, TCP, UDP.
pub(crate) fn protocol(port: &Value, p: &Path, errs: &mut Errs) {
    match s(port, &["protocol"]) {
        "TCP" | "UDP" | "SCTP" => {}
        "" => errs.push(required(p, "")),
        other => errs.push(not_supported(p, other, &["SCTP", "TCP", "UDP"])),
    }
}

/// `checkHostPortConflicts` over `containers`.
fn host_port_conflicts(containers: &[Value], p: &Path, errs: &mut Errs) {
    let mut seen = BTreeSet::new();
    for (ci, c) in containers.iter().enumerate() {
        for (pi, port) in list_at(c, &["ports"]).iter().enumerate() {
            let host_port = int_at(port, &["hostPort"]).unwrap_or(0);
            if host_port == 0 {
                continue;
            }
            let key = format!("{}/{}/{host_port}", s(port, &["protocol"]), s(port, &["hostIP"]));
            if !seen.insert(key.clone()) {
                errs.push(duplicate(&p.index(ci).child("ports").index(pi).child("hostPort"), &key));
            }
        }
    }
}

/// `IsRelaxedEnvVarName` (RelaxedEnvironmentVariableValidation is on).
fn env_name_errors(name: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if name.is_empty() {
        errs.push("environment variable name must be non-empty".to_owned());
    }
    if name.chars().any(|c| !c.is_ascii() || c.is_ascii_control() || c == '=') {
        errs.push(
            "a valid environment variable name must consist only of printable ASCII characters other than '='"
                .to_owned(),
        );
    }
    errs
}

const ENV_FIELD_PATHS: &[&str] = &[
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "spec.nodeName",
    "spec.serviceAccountName",
    "status.hostIP",
    "status.hostIPs",
    "status.podIP",
    "status.podIPs",
];
const DOWNWARD_CONVERTIBLE: &[&str] = &[
    "metadata.annotations",
    "metadata.labels",
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "spec.nodeName",
    "spec.restartPolicy",
    "spec.serviceAccountName",
    "spec.schedulerName",
    "status.phase",
    "status.hostIP",
    "status.hostIPs",
    "status.podIP",
    "status.podIPs",
];
const RESOURCE_FIELD_PATHS: &[&str] = &[
    "limits.cpu",
    "limits.ephemeral-storage",
    "limits.memory",
    "requests.cpu",
    "requests.ephemeral-storage",
    "requests.memory",
];

fn validate_env(env: &[Value], p: &Path, errs: &mut Errs) {
    for (i, var) in env.iter().enumerate() {
        let ip = p.index(i);
        let name = s(var, &["name"]);
        if name.is_empty() {
            errs.push(required(&ip.child("name"), ""));
        } else {
            for msg in env_name_errors(name) {
                errs.push(invalid(&ip.child("name"), name, &msg));
            }
        }
        let Some(from) = at(var, &["valueFrom"]) else { continue };
        let fp = ip.child("valueFrom");
        let mut sources = 0;
        if let Some(field_ref) = at(from, &["fieldRef"]) {
            sources += 1;
            validate_field_ref(field_ref, &fp.child("fieldRef"), errs);
        }
        if let Some(rf) = at(from, &["resourceFieldRef"]) {
            sources += 1;
            let rp = fp.child("resourceFieldRef");
            let resource = s(rf, &["resource"]);
            if resource.is_empty() {
                errs.push(required(&rp.child("resource"), ""));
            } else if !RESOURCE_FIELD_PATHS.contains(&resource)
                && !resource.starts_with("requests.hugepages-")
                && !resource.starts_with("limits.hugepages-")
            {
                errs.push(not_supported(&rp.child("resource"), resource, RESOURCE_FIELD_PATHS));
            }
        }
        for key in ["configMapKeyRef", "secretKeyRef"] {
            if let Some(r) = at(from, &[key]) {
                sources += 1;
                let rp = fp.child(key);
                let name = s(r, &["name"]);
                for msg in name_is_dns_subdomain(name, false) {
                    errs.push(invalid(&rp.child("name"), name, &msg));
                }
                let k = s(r, &["key"]);
                if k.is_empty() {
                    errs.push(required(&rp.child("key"), ""));
                } else {
                    for msg in config_map_key_errors(k) {
                        errs.push(invalid(&rp.child("key"), k, &msg));
                    }
                }
            }
        }
        if at(from, &["fileKeyRef"]).is_some() {
            sources += 1;
        }
        if sources == 0 {
            errs.push(invalid(
                &fp,
                "",
                "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`",
            ));
        } else if !s(var, &["value"]).is_empty() {
            errs.push(invalid(&fp, "", "may not be specified when `value` is not empty"));
        } else if sources > 1 {
            errs.push(invalid(&fp, "", "may not have more than one field specified at a time"));
        }
    }
}

/// `validateObjectFieldSelector` for env vars.
fn validate_field_ref(field_ref: &Value, p: &Path, errs: &mut Errs) {
    let api_version = s(field_ref, &["apiVersion"]);
    if api_version.is_empty() {
        errs.push(required(&p.child("apiVersion"), ""));
        return;
    }
    let field_path = s(field_ref, &["fieldPath"]);
    if field_path.is_empty() {
        errs.push(required(&p.child("fieldPath"), ""));
        return;
    }
    let subscript = ["metadata.labels", "metadata.annotations"].into_iter().find_map(|prefix| {
        let rest = field_path.strip_prefix(prefix)?.strip_prefix("['")?.strip_suffix("']")?;
        Some((prefix, rest))
    });
    if api_version != "v1" {
        errs.push(invalid(
            &p.child("fieldPath"),
            field_path,
            &format!("error converting fieldPath: unsupported pod version: {api_version}"),
        ));
        return;
    }
    if subscript.is_none() && !DOWNWARD_CONVERTIBLE.contains(&field_path) {
        errs.push(invalid(
            &p.child("fieldPath"),
            field_path,
            &format!("error converting fieldPath: field label not supported: {field_path}"),
        ));
        return;
    }
    match subscript {
        Some(("metadata.annotations", key)) => {
            for msg in is_qualified_name(&key.to_lowercase()) {
                errs.push(invalid(p, &key.to_lowercase(), &msg));
            }
        }
        Some((_, key)) => {
            for msg in is_qualified_name(key) {
                errs.push(invalid(p, key, &msg));
            }
        }
        None => {
            if !ENV_FIELD_PATHS.contains(&field_path) {
                let mut supported = ENV_FIELD_PATHS.to_vec();
                supported.sort_unstable();
                errs.push(not_supported(&p.child("fieldPath"), field_path, &supported));
            }
        }
    }
}

/// `IsConfigMapKey`.
pub(crate) fn config_map_key_errors(key: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if key.len() > 253 {
        errs.push("must be no more than 253 characters".to_owned());
    }
    if key.is_empty() || !key.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_')) {
        errs.push(kubeplex_core::names::regex_error(
            "a valid config key must consist of alphanumeric characters, '-', '_' or '.'",
            "[-._a-zA-Z0-9]+",
            &["key.name", "KEY_NAME", "key-name"],
        ));
    }
    match key {
        "." => errs.push("must not be '.'".to_owned()),
        ".." => errs.push("must not be '..'".to_owned()),
        k if k.starts_with("..") => errs.push("must not start with '..'".to_owned()),
        _ => {}
    }
    errs
}

fn validate_env_from(env_from: &[Value], p: &Path, errs: &mut Errs) {
    for (i, source) in env_from.iter().enumerate() {
        let ip = p.index(i);
        let prefix = s(source, &["prefix"]);
        if !prefix.is_empty() {
            for msg in env_name_errors(prefix) {
                errs.push(invalid(&ip.child("prefix"), prefix, &msg));
            }
        }
        let mut sources = 0;
        for key in ["configMapRef", "secretRef"] {
            if let Some(r) = at(source, &[key]) {
                sources += 1;
                let name = s(r, &["name"]);
                if name.is_empty() {
                    errs.push(required(&ip.child(key).child("name"), ""));
                } else {
                    for msg in name_is_dns_subdomain(name, true) {
                        errs.push(invalid(&ip.child(key).child("name"), name, &msg));
                    }
                }
            }
        }
        if sources == 0 {
            errs.push(invalid(p, "", "must specify one of: `configMapRef` or `secretRef`"));
        } else if sources > 1 {
            errs.push(invalid(p, "", "may not have more than one field specified at a time"));
        }
    }
}

fn validate_volume_mounts(c: &Value, vols: &Volumes, p: &Path, errs: &mut Errs) {
    let devices: BTreeMap<&str, &str> =
        list_at(c, &["volumeDevices"]).iter().map(|d| (s(d, &["name"]), s(d, &["devicePath"]))).collect();
    let mut mount_points = BTreeSet::new();
    let privileged = bool_at(c, &["securityContext", "privileged"]) == Some(true);
    for (i, m) in list_at(c, &["volumeMounts"]).iter().enumerate() {
        let ip = p.index(i);
        let name = s(m, &["name"]);
        let mount_path = s(m, &["mountPath"]);
        if name.is_empty() {
            errs.push(required(&ip.child("name"), ""));
        }
        if !vols.contains_key(name) {
            errs.push(not_found(&ip.child("name"), name));
        }
        if mount_path.is_empty() {
            errs.push(required(&ip.child("mountPath"), ""));
        }
        if !mount_points.insert(mount_path) {
            errs.push(invalid(&ip.child("mountPath"), mount_path, "must be unique"));
        }
        if devices.contains_key(name) {
            errs.push(invalid(&ip.child("name"), name, "must not already exist in volumeDevices"));
        }
        if devices.values().any(|d| *d == mount_path) {
            errs.push(invalid(&ip.child("mountPath"), mount_path, "must not already exist as a path in volumeDevices"));
        }
        let sub_path = s(m, &["subPath"]);
        if !sub_path.is_empty() {
            local_descending_path(sub_path, &p.child("subPath"), errs);
        }
        let sub_path_expr = s(m, &["subPathExpr"]);
        if !sub_path_expr.is_empty() {
            if !sub_path.is_empty() {
                errs.push(invalid(
                    &ip.child("subPathExpr"),
                    sub_path_expr,
                    "subPathExpr and subPath are mutually exclusive",
                ));
            }
            local_descending_path(sub_path_expr, &p.child("subPathExpr"), errs);
        }
        if let Some(prop) = str_or_null(m, "mountPropagation") {
            let pp = p.child("mountPropagation");
            if !["Bidirectional", "HostToContainer", "None"].contains(&prop) {
                errs.push(not_supported(&pp, prop, &["Bidirectional", "HostToContainer", "None"]));
            }
            if prop == "Bidirectional" && !privileged {
                errs.push(forbidden(&pp, "Bidirectional mount propagation is available only to privileged containers"));
            }
        }
        if let Some(rro) = str_or_null(m, "recursiveReadOnly") {
            let rp = p.child("recursiveReadOnly");
            match rro {
                "Disabled" => {}
                "Enabled" | "IfPossible" => {
                    if bool_at(m, &["readOnly"]) != Some(true) {
                        errs.push(forbidden(&rp, "may only be specified when readOnly is true"));
                    }
                    if str_or_null(m, "mountPropagation").is_some_and(|p| p != "None") {
                        errs.push(forbidden(
                            &rp,
                            "may only be specified when mountPropagation is None or not specified",
                        ));
                    }
                }
                other => errs.push(not_supported(&rp, other, &["Disabled", "Enabled", "IfPossible"])),
            }
        }
    }
}

fn validate_volume_devices(c: &Value, vols: &Volumes, p: &Path, errs: &mut Errs) {
    let mounts: BTreeMap<&str, &str> =
        list_at(c, &["volumeMounts"]).iter().map(|m| (s(m, &["name"]), s(m, &["mountPath"]))).collect();
    let mut paths = BTreeSet::new();
    let mut names = BTreeSet::new();
    for (i, d) in list_at(c, &["volumeDevices"]).iter().enumerate() {
        let ip = p.index(i);
        let name = s(d, &["name"]);
        let path = s(d, &["devicePath"]);
        if name.is_empty() {
            errs.push(required(&ip.child("name"), ""));
        }
        if names.contains(name) {
            errs.push(invalid(&ip.child("name"), name, "must be unique"));
        }
        match vols.get(name) {
            Some(false) => errs.push(invalid(
                &ip.child("name"),
                name,
                "can only use volume source type of PersistentVolumeClaim or Ephemeral for block mode",
            )),
            Some(true) => {}
            None => errs.push(not_found(&ip.child("name"), name)),
        }
        if path.is_empty() {
            errs.push(required(&ip.child("devicePath"), ""));
        }
        if paths.contains(path) {
            errs.push(invalid(&ip.child("devicePath"), path, "must be unique"));
        }
        if !path.is_empty() && path.split('/').any(|part| part == "..") {
            errs.push(invalid(&ip.child("devicePath"), path, "can not contain backsteps ('..')"));
        } else {
            paths.insert(path);
        }
        if mounts.contains_key(name) {
            errs.push(invalid(&ip.child("name"), name, "must not already exist in volumeMounts"));
        }
        if mounts.values().any(|m| *m == path) {
            errs.push(invalid(&ip.child("devicePath"), path, "must not already exist as a path in volumeMounts"));
        }
        if !name.is_empty() {
            names.insert(name);
        }
    }
}

/// A service account token's `expirationSeconds`: at least 10 minutes, at
/// most 2^32 seconds.
pub(crate) fn token_expiration(secs: i64, p: &Path, errs: &mut Errs) {
    if secs < 600 {
        errs.push(invalid_int(p, secs, "may not specify a duration less than 10 minutes"));
    }
    if secs > 1 << 32 {
        errs.push(invalid_int(p, secs, "may not specify a duration larger than 2^32 seconds"));
    }
}

/// Which resource names a resource list may hold.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum ResourceScope {
    Container,
    Pod,
}

const STANDARD_RESOURCES: &[&str] = &[
    "cpu",
    "memory",
    "ephemeral-storage",
    "requests.cpu",
    "requests.memory",
    "requests.ephemeral-storage",
    "limits.cpu",
    "limits.memory",
    "limits.ephemeral-storage",
    "pods",
    "services",
    "replicationcontrollers",
    "resourcequotas",
    "secrets",
    "configmaps",
    "persistentvolumeclaims",
    "storage",
    "requests.storage",
    "services.nodeports",
    "services.loadbalancers",
];

const INTEGER_RESOURCES: &[&str] = &[
    "pods",
    "services",
    "replicationcontrollers",
    "resourcequotas",
    "secrets",
    "configmaps",
    "persistentvolumeclaims",
    "services.nodeports",
    "services.loadbalancers",
];

/// `IsQuotaHugePageResourceName`.
pub(crate) fn is_hugepages(name: &str) -> bool {
    name.starts_with("hugepages-") || name.starts_with("requests.hugepages-")
}

/// `IsNativeResource`: unqualified, or in `kubernetes.io/`.
pub(crate) fn is_native(name: &str) -> bool {
    !name.contains('/') || name.contains("kubernetes.io/")
}

/// `IsExtendedResourceName`.
pub(crate) fn is_extended(name: &str) -> bool {
    !is_native(name) && !name.starts_with("requests.") && is_qualified_name(&format!("requests.{name}")).is_empty()
}

/// `IsOvercommitAllowed`.
pub(crate) fn overcommit_allowed(name: &str) -> bool {
    is_native(name) && !name.starts_with("hugepages-")
}

/// `validateResourceName`: qualified, and standard when unqualified.
pub(crate) fn resource_name_errors(name: &str, p: &Path) -> Errs {
    let msgs = is_qualified_name(name);
    if !msgs.is_empty() {
        return msgs.iter().map(|m| invalid(p, name, m)).collect();
    }
    if !(name.contains('/') || STANDARD_RESOURCES.contains(&name) || is_hugepages(name)) {
        return vec![invalid(p, name, "must be a standard resource type or fully qualified")];
    }
    Errs::new()
}

/// `validateContainerResourceName`.
pub(crate) fn container_resource_name_errors(name: &str, p: &Path) -> Errs {
    let mut errs = resource_name_errors(name, p);
    if !name.contains('/') {
        if !(["cpu", "memory", "ephemeral-storage"].contains(&name) || name.starts_with("hugepages-")) {
            errs.push(invalid(p, name, "must be a standard resource for containers"));
        }
    } else if !is_native(name) && !is_extended(name) {
        errs.push(invalid(p, name, "doesn't follow extended resource name standard"));
    }
    errs
}

/// `ValidateResourceQuantityValue`: not negative, whole for integer resources.
pub(crate) fn quantity_value_errors(resource: &str, q: &Quantity, p: &Path) -> Errs {
    let mut errs = Errs::new();
    if q.sign() == std::cmp::Ordering::Less {
        errs.push(invalid(p, &q.to_string(), "must be greater than or equal to 0"));
    }
    let integer = INTEGER_RESOURCES.contains(&resource) || is_extended(resource);
    if integer && q.milli_value() % 1000 != 0 {
        errs.push(invalid(p, &q.to_string(), "must be an integer"));
    }
    errs
}

/// `validateContainerResourceName` / `validatePodResourceName`.
fn resource_name(name: &str, p: &Path, scope: ResourceScope, errs: &mut Errs) {
    match scope {
        ResourceScope::Container => errs.extend(container_resource_name_errors(name, p)),
        ResourceScope::Pod => {
            let mut local = resource_name_errors(name, p);
            if local.is_empty() && !(name == "cpu" || name == "memory" || name.starts_with("hugepages-")) {
                local.push(not_supported(p, name, &["cpu", "hugepages-", "memory"]));
            }
            errs.extend(local);
        }
    }
}

fn validate_resource_list(list: &Value, p: &Path, scope: ResourceScope, errs: &mut Errs) {
    let Some(map) = list.as_object() else { return };
    let mut keys: Vec<&String> = map.keys().collect();
    keys.sort();
    for k in keys {
        let kp = p.key(k);
        resource_name(k, &kp, scope, errs);
        if let Some(q) = parse_quantity(&map[k]) {
            errs.extend(quantity_value_errors(k, &q, &kp));
        }
    }
}

/// `validateResourceRequirements`.
fn validate_resources(resources: &Value, p: &Path, scope: ResourceScope, errs: &mut Errs) {
    let lim_path = p.child("limits");
    let req_path = p.child("requests");
    let limits = map_at(resources, &["limits"]);
    let requests = map_at(resources, &["requests"]);
    let qos = |m: Option<&Map<String, Value>>| m.is_some_and(|m| m.contains_key("cpu") || m.contains_key("memory"));
    let huge = |m: Option<&Map<String, Value>>| m.is_some_and(|m| m.keys().any(|k| k.starts_with("hugepages-")));
    if let Some(l) = at(resources, &["limits"]) {
        validate_resource_list(l, &lim_path, scope, errs);
    }
    if let Some(req) = requests {
        let mut keys: Vec<&String> = req.keys().collect();
        keys.sort();
        for k in keys {
            let kp = req_path.key(k);
            resource_name(k, &kp, scope, errs);
            let Some(q) = parse_quantity(&req[k]) else { continue };
            errs.extend(quantity_value_errors(k, &q, &kp));
            match limits.and_then(|l| l.get(k)).and_then(parse_quantity) {
                Some(limit) => {
                    if q != limit && !overcommit_allowed(k) {
                        errs.push(invalid(
                            &req_path,
                            &q.to_string(),
                            &format!("must be equal to {k} limit of {limit}"),
                        ));
                    } else if q > limit {
                        errs.push(invalid(
                            &req_path,
                            &q.to_string(),
                            &format!("must be less than or equal to {k} limit of {limit}"),
                        ));
                    }
                }
                None if !overcommit_allowed(k) => {
                    errs.push(required(&lim_path, "Limit must be set for non overcommitable resources"));
                }
                None => {}
            }
        }
    }
    if !qos(limits) && !qos(requests) && (huge(limits) || huge(requests)) {
        errs.push(forbidden(p, "HugePages require cpu or memory"));
    }
    if scope == ResourceScope::Pod && at(resources, &["claims"]).is_some() {
        errs.push(forbidden(&p.child("claims"), "claims cannot be set for Resources at pod-level"));
    }
}

fn validate_resize_policy(policies: &[Value], p: &Path, restart_policy: &str, errs: &mut Errs) {
    let mut seen = BTreeSet::new();
    for (i, policy) in policies.iter().enumerate() {
        let name = s(policy, &["resourceName"]);
        if !seen.insert(name) {
            errs.push(duplicate(&p.index(i), name));
        }
        match name {
            "cpu" | "memory" => {}
            "" => errs.push(required(p, "")),
            other => errs.push(not_supported(p, other, &["cpu", "memory"])),
        }
        let rp = s(policy, &["restartPolicy"]);
        match rp {
            "NotRequired" | "RestartContainer" => {}
            "" => errs.push(required(p, "")),
            other => errs.push(not_supported(p, other, &["NotRequired", "RestartContainer"])),
        }
        if restart_policy == "Never" && rp != "NotRequired" {
            errs.push(invalid(p, rp, "must be 'NotRequired' when `restartPolicy` is 'Never'"));
        }
    }
}

fn id_range(value: Option<i64>, p: &Path, errs: &mut Errs) {
    if let Some(v) = value
        && !(0..=i64::from(i32::MAX)).contains(&v)
    {
        errs.push(invalid_int(p, v, "must be between 0 and 2147483647, inclusive"));
    }
}

fn seccomp_profile(sc: &Value, p: &Path, errs: &mut Errs) {
    let Some(profile) = at(sc, &["seccompProfile"]) else { return };
    let pp = p.child("seccompProfile");
    let kind = s(profile, &["type"]);
    match kind {
        "Localhost" | "RuntimeDefault" | "Unconfined" => {}
        "" => errs.push(required(&pp.child("type"), "type is required when seccompProfile is set")),
        other => errs.push(not_supported(&pp.child("type"), other, &["Localhost", "RuntimeDefault", "Unconfined"])),
    }
    let localhost = str_or_null(profile, "localhostProfile");
    if kind == "Localhost" {
        match localhost {
            None => errs.push(required(&pp.child("localhostProfile"), "must be set when seccomp type is Localhost")),
            Some(l) => local_descending_path(l, &pp.child("localhostProfile"), errs),
        }
    } else if localhost.is_some() {
        errs.push(invalid_json(
            &pp.child("localhostProfile"),
            profile,
            "can only be set when seccomp type is Localhost",
        ));
    }
}

/// `validatePodSpecSecurityContext` (ids, sysctls' names, fsGroupChangePolicy,
/// seccomp).
fn validate_pod_security_context(sc: &Value, p: &Path, errs: &mut Errs) {
    id_range(int_at(sc, &["fsGroup"]), &p.child("fsGroup"), errs);
    id_range(int_at(sc, &["runAsUser"]), &p.child("runAsUser"), errs);
    id_range(int_at(sc, &["runAsGroup"]), &p.child("runAsGroup"), errs);
    for (i, g) in list_at(sc, &["supplementalGroups"]).iter().enumerate() {
        id_range(g.as_i64(), &p.child("supplementalGroups").index(i), errs);
    }
    if let Some(policy) = str_or_null(sc, "fsGroupChangePolicy")
        && !["Always", "OnRootMismatch"].contains(&policy)
    {
        errs.push(not_supported(&p.child("fsGroupChangePolicy"), policy, &["Always", "OnRootMismatch"]));
    }
    let mut names = BTreeSet::new();
    for (i, sysctl) in list_at(sc, &["sysctls"]).iter().enumerate() {
        let name = s(sysctl, &["name"]);
        let np = p.child("sysctls").index(i).child("name");
        if name.is_empty() {
            errs.push(required(&np, ""));
        } else if !names.insert(name) {
            errs.push(duplicate(&np, name));
        }
    }
    seccomp_profile(sc, p, errs);
}

/// `ValidateSecurityContext` (ids, procMount, seccomp, privilege escalation).
fn validate_security_context(sc: &Value, p: &Path, errs: &mut Errs) {
    id_range(int_at(sc, &["runAsUser"]), &p.child("runAsUser"), errs);
    id_range(int_at(sc, &["runAsGroup"]), &p.child("runAsGroup"), errs);
    if let Some(proc_mount) = str_or_null(sc, "procMount")
        && !["Default", "Unmasked"].contains(&proc_mount)
    {
        errs.push(not_supported(&p.child("procMount"), proc_mount, &["Default", "Unmasked"]));
    }
    seccomp_profile(sc, p, errs);
    if bool_at(sc, &["allowPrivilegeEscalation"]) == Some(false) {
        if bool_at(sc, &["privileged"]) == Some(true) {
            errs.push(invalid_json(p, sc, "cannot set `allowPrivilegeEscalation` to false and `privileged` to true"));
        }
        if list_at(sc, &["capabilities", "add"]).iter().any(|c| c.as_str() == Some("CAP_SYS_ADMIN")) {
            errs.push(invalid_json(
                p,
                sc,
                "cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN",
            ));
        }
    }
}

fn validate_probe(c: &Value, field: &str, grace: Option<i64>, cp: &Path, errs: &mut Errs) {
    let Some(probe) = at(c, &[field]) else { return };
    let p = cp.child(field);
    validate_handler(probe, grace, &p, &["exec", "httpGet", "tcpSocket", "grpc"], errs);
    for key in ["initialDelaySeconds", "timeoutSeconds", "periodSeconds", "successThreshold", "failureThreshold"] {
        nonnegative(errs, int_at(probe, &[key]), &p.child(key));
    }
    if let Some(t) = int_at(probe, &["terminationGracePeriodSeconds"])
        && t <= 0
    {
        errs.push(invalid_int(&p.child("terminationGracePeriodSeconds"), t, "must be greater than 0"));
    }
    let success = int_at(probe, &["successThreshold"]).unwrap_or(0);
    if field != "readinessProbe" && success != 1 {
        errs.push(invalid_int(&p.child("successThreshold"), success, "must be 1"));
    }
    if field == "readinessProbe"
        && let Some(t) = at(probe, &["terminationGracePeriodSeconds"])
    {
        errs.push(invalid_json(&p.child("terminationGracePeriodSeconds"), t, "must not be set for readinessProbes"));
    }
}

fn validate_lifecycle(lifecycle: &Value, grace: Option<i64>, p: &Path, errs: &mut Errs) {
    for hook in ["postStart", "preStop"] {
        if let Some(h) = at(lifecycle, &[hook]) {
            validate_handler(h, grace, &p.child(hook), &["exec", "httpGet", "tcpSocket", "sleep"], errs);
        }
    }
}

/// `validateHandler`: exactly one handler type.
fn validate_handler(h: &Value, grace: Option<i64>, p: &Path, kinds: &[&str], errs: &mut Errs) {
    let mut count = 0;
    for kind in ["exec", "httpGet", "tcpSocket", "grpc", "sleep"] {
        if !kinds.contains(&kind) {
            continue;
        }
        let Some(action) = at(h, &[kind]) else { continue };
        let kp = p.child(kind);
        if count > 0 {
            errs.push(forbidden(&kp, "may not specify more than 1 handler type"));
            continue;
        }
        count += 1;
        match kind {
            "exec" => {
                if list_at(action, &["command"]).is_empty() {
                    errs.push(required(&kp.child("command"), ""));
                }
            }
            "httpGet" => {
                if s(action, &["path"]).is_empty() {
                    errs.push(required(&kp.child("path"), ""));
                }
                port_num_or_name(at(action, &["port"]), &kp.child("port"), errs);
                let scheme = s(action, &["scheme"]);
                if scheme != "HTTP" && scheme != "HTTPS" {
                    errs.push(not_supported(&kp.child("scheme"), scheme, &["HTTP", "HTTPS"]));
                }
            }
            "tcpSocket" => port_num_or_name(at(action, &["port"]), &kp.child("port"), errs),
            "grpc" => port_num_or_name(Some(&json!(int_at(action, &["port"]).unwrap_or(0))), &kp.child("port"), errs),
            _ => {
                let seconds = int_at(action, &["seconds"]).unwrap_or(0);
                if let Some(g) = grace
                    && (seconds < 0 || seconds > g)
                {
                    errs.push(invalid_int(
                        &kp,
                        seconds,
                        &format!("must be non-negative and less than terminationGracePeriodSeconds ({g})"),
                    ));
                }
            }
        }
    }
    if count == 0 {
        errs.push(required(p, "must specify a handler type"));
    }
}

fn validate_host_network_deps(spec: &Value, p: &Path, opts: PodOpts, errs: &mut Errs) {
    if bool_at(spec, &["hostNetwork"]) != Some(true) {
        return;
    }
    for (i, c) in list_at(spec, &["containers"]).iter().enumerate() {
        for (j, port) in list_at(c, &["ports"]).iter().enumerate() {
            let hp = int_at(port, &["hostPort"]).unwrap_or(0);
            let cp = int_at(port, &["containerPort"]).unwrap_or(0);
            if (opts.resource_is_pod || hp != 0) && hp != cp {
                errs.push(invalid_int(
                    &p.child("containers").index(i).child("ports").index(j).child("hostPort"),
                    hp,
                    "must match `containerPort` when `hostNetwork` is true",
                ));
            }
        }
    }
}

fn validate_dns_config(spec: &Value, dns_policy: &str, p: &Path, errs: &mut Errs) {
    let config = at(spec, &["dnsConfig"]);
    if dns_policy == "None" {
        let Some(config) = config else {
            errs.push(required(p, "must provide `dnsConfig` when `dnsPolicy` is None"));
            return;
        };
        if list_at(config, &["nameservers"]).is_empty() {
            errs.push(required(
                &p.child("nameservers"),
                "must provide at least one DNS nameserver when `dnsPolicy` is None",
            ));
            return;
        }
    }
    let Some(config) = config else { return };
    let nameservers = list_at(config, &["nameservers"]);
    if nameservers.len() > 3 {
        errs.push(invalid_json(&p.child("nameservers"), &json!(nameservers), "must not have more than 3 nameservers"));
    }
    for (i, ns) in nameservers.iter().enumerate() {
        let ns = ns.as_str().unwrap_or("");
        if ns.parse::<std::net::IpAddr>().is_err() {
            errs.push(invalid(
                &p.child("nameservers").index(i),
                ns,
                "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)",
            ));
        }
    }
    let searches = list_at(config, &["searches"]);
    if searches.len() > 32 {
        errs.push(invalid_json(&p.child("searches"), &json!(searches), "must not have more than 32 search paths"));
    }
    for (i, search) in searches.iter().enumerate() {
        let search = search.as_str().unwrap_or("");
        if search == "." {
            continue;
        }
        let trimmed = search.strip_suffix('.').unwrap_or(search);
        let with_underscore = trimmed.replace('_', "a");
        if !is_dns1123_subdomain(&with_underscore).is_empty() {
            for msg in is_dns1123_subdomain(trimmed) {
                errs.push(invalid(&p.child("searches").index(i), trimmed, &msg));
            }
        }
    }
    for (i, option) in list_at(config, &["options"]).iter().enumerate() {
        if s(option, &["name"]).is_empty() {
            errs.push(required(&p.child("options").index(i), "must not be empty"));
        }
    }
}

/// `ValidateTolerations`.
pub(crate) fn validate_tolerations(tolerations: &[Value], p: &Path, errs: &mut Errs) {
    for (i, t) in tolerations.iter().enumerate() {
        let ip = p.index(i);
        let key = s(t, &["key"]);
        let operator = s(t, &["operator"]);
        let effect = s(t, &["effect"]);
        let value = s(t, &["value"]);
        if !key.is_empty() {
            errs.extend(validate_label_name(key, ip.child("key").as_str()));
        }
        if key.is_empty() && operator != "Exists" {
            errs.push(invalid(
                &ip.child("operator"),
                operator,
                "operator must be Exists when `key` is empty, which means \"match all values and all keys\"",
            ));
        }
        if at(t, &["tolerationSeconds"]).is_some() && effect != "NoExecute" {
            errs.push(invalid(
                &ip.child("effect"),
                effect,
                "effect must be 'NoExecute' when `tolerationSeconds` is set",
            ));
        }
        match operator {
            "Equal" | "" => {
                let msgs = is_label_value(value);
                if !msgs.is_empty() {
                    errs.push(invalid(&ip.child("operator"), value, &msgs.join(";")));
                }
            }
            "Exists" => {
                if !value.is_empty() {
                    errs.push(invalid(&ip.child("operator"), value, "value must be empty when `operator` is 'Exists'"));
                }
            }
            other => errs.push(not_supported(&ip.child("operator"), other, &["Equal", "Exists"])),
        }
        if !effect.is_empty() && !["NoSchedule", "PreferNoSchedule", "NoExecute"].contains(&effect) {
            errs.push(not_supported(&ip.child("effect"), effect, &["NoSchedule", "PreferNoSchedule", "NoExecute"]));
        }
    }
}

fn validate_topology_spread(spec: &Value, p: &Path, errs: &mut Errs) {
    let constraints = list_at(spec, &["topologySpreadConstraints"]);
    for (i, c) in constraints.iter().enumerate() {
        let ip = p.index(i);
        let max_skew = int_at(c, &["maxSkew"]).unwrap_or(0);
        if max_skew <= 0 {
            errs.push(invalid_int(&ip.child("maxSkew"), max_skew, "must be greater than zero"));
        }
        let key = s(c, &["topologyKey"]);
        if key.is_empty() {
            errs.push(required(&ip.child("topologyKey"), "can not be empty"));
        }
        let when = s(c, &["whenUnsatisfiable"]);
        if when != "DoNotSchedule" && when != "ScheduleAnyway" {
            errs.push(not_supported(&ip.child("whenUnsatisfiable"), when, &["DoNotSchedule", "ScheduleAnyway"]));
        }
        if constraints[i + 1..].iter().any(|o| s(o, &["topologyKey"]) == key && s(o, &["whenUnsatisfiable"]) == when) {
            errs.push(duplicate_rendered(
                &ip.child("{topologyKey, whenUnsatisfiable}"),
                &kubeplex_core::names::go_quote(&format!("{{{key}, {when}}}")),
            ));
        }
        if let Some(min) = int_at(c, &["minDomains"]) {
            if min <= 0 {
                errs.push(invalid_int(&ip.child("minDomains"), min, "must be greater than zero"));
            }
            if when != "DoNotSchedule" {
                errs.push(invalid_int(
                    &ip.child("minDomains"),
                    min,
                    &format!("can only use minDomains if whenUnsatisfiable=DoNotSchedule, not {when}"),
                ));
            }
        }
        for field in ["nodeAffinityPolicy", "nodeTaintsPolicy"] {
            if let Some(policy) = str_or_null(c, field)
                && policy != "Ignore"
                && policy != "Honor"
            {
                errs.push(not_supported(&ip.child(field), policy, &["Honor", "Ignore"]));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategy::field::msgs;

    #[test]
    fn pull_policy_follows_the_tag() {
        assert_eq!(default_pull_policy("nginx"), "Always");
        assert_eq!(default_pull_policy("nginx:latest"), "Always");
        assert_eq!(default_pull_policy("nginx:1.27"), "IfNotPresent");
        assert_eq!(default_pull_policy("localhost:5000/app"), "Always");
        assert_eq!(default_pull_policy("localhost:5000/app:v1"), "IfNotPresent");
        assert_eq!(default_pull_policy("registry.k8s.io/pause:3.10"), "IfNotPresent");
        assert_eq!(default_pull_policy(&format!("nginx@sha256:{}", "a".repeat(64))), "IfNotPresent");
        assert_eq!(default_pull_policy("NGINX"), "IfNotPresent");
        assert_eq!(default_pull_policy(""), "IfNotPresent");
    }

    #[test]
    fn template_spec_defaults() {
        let mut template = json!({
            "metadata": {"creationTimestamp": null, "labels": {"app": "web"}},
            "spec": {"containers": [{
                "name": "web", "image": "nginx:1.27",
                "ports": [{"containerPort": 80}],
                "resources": {"limits": {"cpu": "1000m", "memory": "1.5Gi"}},
                "livenessProbe": {"httpGet": {"port": 80}}
            }],
            "volumes": [{"name": "scratch"}, {"name": "cfg", "configMap": {"name": "cfg"}}]}
        });
        default_template(template.as_object_mut().unwrap());
        assert_eq!(
            template,
            json!({
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "containers": [{
                        "name": "web", "image": "nginx:1.27",
                        "ports": [{"containerPort": 80, "protocol": "TCP"}],
                        "resources": {"limits": {"cpu": "1", "memory": "1536Mi"}},
                        "livenessProbe": {
                            "httpGet": {"port": 80, "path": "/", "scheme": "HTTP"},
                            "timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3
                        },
                        "imagePullPolicy": "IfNotPresent",
                        "terminationMessagePath": "/dev/termination-log",
                        "terminationMessagePolicy": "File"
                    }],
                    "volumes": [
                        {"name": "scratch", "emptyDir": {}},
                        {"name": "cfg", "configMap": {"name": "cfg", "defaultMode": 420}}
                    ],
                    "dnsPolicy": "ClusterFirst",
                    "restartPolicy": "Always",
                    "securityContext": {},
                    "terminationGracePeriodSeconds": 30,
                    "schedulerName": "default-scheduler"
                }
            })
        );
    }

    #[test]
    fn pod_only_defaults() {
        let mut spec = json!({
            "hostNetwork": true,
            "serviceAccount": "builder",
            "containers": [{"name": "a", "image": "a", "ports": [{"containerPort": 8080}],
                            "resources": {"limits": {"cpu": "500m"}}}]
        });
        default_pod_spec(spec.as_object_mut().unwrap(), true);
        assert_eq!(spec["enableServiceLinks"], json!(true));
        assert_eq!(spec["serviceAccountName"], json!("builder"));
        assert_eq!(spec["containers"][0]["ports"][0]["hostPort"], json!(8080));
        assert_eq!(spec["containers"][0]["resources"]["requests"], json!({"cpu": "500m"}));
        assert!(spec["containers"][0].get("resizePolicy").is_none());
    }

    #[test]
    fn pod_level_requests_default() {
        let mut spec = json!({
            "resources": {"limits": {"cpu": "2", "memory": "1Gi"}},
            "containers": [
                {"name": "a", "image": "a", "resources": {"requests": {"cpu": "250m"}}},
                {"name": "b", "image": "b", "resources": {"requests": {"cpu": "500m"}}}
            ]
        });
        default_pod_spec(spec.as_object_mut().unwrap(), true);
        assert_eq!(spec["resources"]["requests"], json!({"cpu": "750m", "memory": "1Gi"}));
    }

    #[test]
    fn container_validation_messages() {
        let spec = json!({
            "terminationGracePeriodSeconds": 30, "restartPolicy": "Always", "dnsPolicy": "ClusterFirst",
            "containers": [
                {"name": "Web", "imagePullPolicy": "Always", "terminationMessagePolicy": "File",
                 "ports": [{"containerPort": 70000, "protocol": "TCP"}],
                 "resources": {"limits": {"cpu": "1"}, "requests": {"cpu": "2"}}},
                {"name": "Web", "image": "x", "imagePullPolicy": "Sometimes", "terminationMessagePolicy": "File",
                 "volumeMounts": [{"name": "missing", "mountPath": "/x"}]}
            ]
        });
        let errs = msgs(&validate_pod_spec(&spec, None, &Path::new("spec"), PodOpts::default()));
        assert_eq!(
            errs,
            [
                "spec.containers[0].name: Invalid value: \"Web\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
                "spec.containers[0].image: Required value",
                "spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive",
                "spec.containers[0].resources.requests: Invalid value: \"2\": must be less than or equal to cpu limit of 1",
                "spec.containers[1].name: Invalid value: \"Web\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
                "spec.containers[1].volumeMounts[0].name: Not found: \"missing\"",
                "spec.containers[1].imagePullPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"IfNotPresent\", \"Never\"",
                "spec.containers[1].name: Duplicate value: \"Web\"",
            ]
        );
        let errs = msgs(&validate_pod_spec(&json!({}), None, &Path::new("spec"), PodOpts::default()));
        assert_eq!(
            errs,
            [
                "spec.terminationGracePeriodSeconds: Required value",
                "spec.containers: Required value",
                "spec.restartPolicy: Required value",
                "spec.dnsPolicy: Required value",
            ]
        );
    }

    #[test]
    fn volumes_and_tolerations() {
        let spec = json!({
            "terminationGracePeriodSeconds": 30, "restartPolicy": "Always", "dnsPolicy": "ClusterFirst",
            "containers": [{"name": "a", "image": "a", "imagePullPolicy": "Always", "terminationMessagePolicy": "File"}],
            "volumes": [{"name": "v"}, {"name": "w", "emptyDir": {}, "hostPath": {"path": "/x"}}],
            "tolerations": [{"operator": "Equal", "value": "x"}]
        });
        let errs = msgs(&validate_pod_spec(&spec, None, &Path::new("spec"), PodOpts::default()));
        assert_eq!(
            errs,
            [
                "spec.volumes[0]: Required value: must specify a volume type",
                "spec.volumes[1].hostPath: Forbidden: may not specify more than 1 volume type",
                "spec.tolerations[0].operator: Invalid value: \"Equal\": operator must be Exists when `key` is empty, which means \"match all values and all keys\"",
            ]
        );
    }

    #[test]
    fn bad_quantities_are_found() {
        let spec = json!({"containers": [{"resources": {"limits": {"cpu": "lots"}}}]});
        assert_eq!(
            bad_quantity(&spec).as_deref(),
            Some("quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")
        );
        assert_eq!(bad_quantity(&json!({"containers": [{"resources": {"limits": {"cpu": "1"}}}]})), None);
    }
}
