//! The kinds that constrain workloads: core/v1 ResourceQuotas and
//! LimitRanges, policy/v1 PodDisruptionBudgets and autoscaling/v2
//! HorizontalPodAutoscalers (their `defaults.go`, `strategy.go` and
//! validation upstream), and the resource-name and quantity rules
//! (`pkg/apis/core/helper`, `ValidateResourceQuantityValue`) they share with
//! volumes.
//!
//! ```text
//!  ResourceQuota  spec.hard: quota resource names, non-negative (integer) quantities, scopes
//!  LimitRange     limits[]: type, resource names, min ≤ default request ≤ default ≤ max
//!  PDB            minAvailable xor maxUnavailable (int or ≤100%), selector, eviction policy
//!  HPA            min/max replicas, target, metrics, behavior (defaults fill 80% CPU)
//! ```

use kubeplex_core::names::{
    NameValidator, is_dns1123_label, is_path_segment_name, is_qualified_name, name_is_dns_subdomain,
    validate_path_segment_name,
};
use kubeplex_core::quantity::Quantity;
use serde_json::{Map, Value, json};

use super::apps::positive_percent_at_most_100;
use super::field::{
    Errs, Path, at, duplicate, forbidden, int_at, invalid, invalid_int, invalid_json, invalid_rendered, list_at,
    map_at, not_supported, obj_path, render, render_ordered, required, s, semantic_eq, set_default, sort_map, str_at,
};
use super::meta::{self, MetaRules};
use super::podspec::{
    self, container_resource_name_errors, is_hugepages, overcommit_allowed, quantity_value_errors, resource_name_errors,
};

/// The kinds of this module.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PolicyKind {
    ResourceQuota,
    LimitRange,
    PodDisruptionBudget,
    HorizontalPodAutoscaler,
}

/// The kind of `(group, kind)`, if it is one of this module's.
pub(crate) fn kind_of(group: &str, kind: &str) -> Option<PolicyKind> {
    Some(match (group, kind) {
        ("", "ResourceQuota") => PolicyKind::ResourceQuota,
        ("", "LimitRange") => PolicyKind::LimitRange,
        ("policy", "PodDisruptionBudget") => PolicyKind::PodDisruptionBudget,
        ("autoscaling", "HorizontalPodAutoscaler") => PolicyKind::HorizontalPodAutoscaler,
        _ => return None,
    })
}

/// The name rule: a PDB's strategy does not validate its metadata, so only
/// the generic path-segment rule applies.
pub(crate) fn name_validator(kind: PolicyKind) -> NameValidator {
    match kind {
        PolicyKind::PodDisruptionBudget => validate_path_segment_name,
        _ => name_is_dns_subdomain,
    }
}

/// Whether only the generic finalizer rule applies (no core metadata
/// validation in the strategy).
pub(crate) fn generic_finalizers(kind: PolicyKind) -> bool {
    kind == PolicyKind::PodDisruptionBudget
}

// ------------------------------------------------------ resources, quantities

/// A quantity as stored (a string, or a JSON number).
pub(crate) fn quantity(v: &Value) -> Option<Quantity> {
    match v {
        Value::String(s) => Quantity::parse(s).ok(),
        Value::Number(n) => Quantity::parse(&n.to_string()).ok(),
        _ => None,
    }
}

/// The first value of the resource lists `lists` that is not a quantity,
/// as the decode error upstream reports.
pub(crate) fn first_bad_quantity<'a>(lists: impl Iterator<Item = &'a Value>) -> Option<String> {
    lists.filter_map(Value::as_object).flat_map(Map::values).find_map(|v| match v {
        Value::String(s) => Quantity::parse(s).err().map(|e| e.to_string()),
        Value::Number(n) => Quantity::parse(&n.to_string()).err().map(|e| e.to_string()),
        _ => None,
    })
}

const QUOTA_RESOURCES: &[&str] = &[
    "cpu",
    "memory",
    "ephemeral-storage",
    "requests.cpu",
    "requests.memory",
    "requests.storage",
    "requests.ephemeral-storage",
    "limits.cpu",
    "limits.memory",
    "limits.ephemeral-storage",
    "pods",
    "resourcequotas",
    "services",
    "replicationcontrollers",
    "secrets",
    "persistentvolumeclaims",
    "configmaps",
    "services.nodeports",
    "services.loadbalancers",
];

/// The entries of a resource list in Go's sorted order.
fn sorted_list(value: Option<&Value>) -> Vec<(&str, &Value)> {
    let mut entries: Vec<(&str, &Value)> =
        value.and_then(Value::as_object).into_iter().flatten().map(|(k, v)| (k.as_str(), v)).collect();
    entries.sort_by_key(|(k, _)| *k);
    entries
}

/// Rounds and sorts the resource list under `key` of `map`.
fn resource_list_defaults(map: &mut Map<String, Value>, key: &str) {
    podspec::default_resource_list(map, key);
    sort_map(map, key);
}

// ------------------------------------------------------------------ defaults

/// The defaults decoding applies.
pub(crate) fn defaults(kind: PolicyKind, object: &mut Value) {
    match kind {
        PolicyKind::ResourceQuota => {
            if let Some(spec) = object.get_mut("spec").and_then(Value::as_object_mut) {
                resource_list_defaults(spec, "hard");
            }
            if let Some(status) = object.get_mut("status").and_then(Value::as_object_mut) {
                resource_list_defaults(status, "hard");
                resource_list_defaults(status, "used");
            }
        }
        PolicyKind::LimitRange => limit_range_defaults(object),
        PolicyKind::PodDisruptionBudget => {
            if let Some(selector) = obj_path(object, &["spec"]).and_then(|s| s.get_mut("selector"))
                && let Some(selector) = selector.as_object_mut()
            {
                sort_map(selector, "matchLabels");
            }
        }
        PolicyKind::HorizontalPodAutoscaler => hpa_defaults(object),
    }
}

/// `SetDefaults_LimitRangeItem`: a container's default limit from its max,
/// its default request from the default limit, else from the min.
fn limit_range_defaults(object: &mut Value) {
    let Some(spec) = obj_path(object, &["spec"]) else { return };
    // `limits` has no omitempty.
    set_default(spec, "limits", Value::Null);
    let Some(limits) = spec.get_mut("limits").and_then(Value::as_array_mut) else { return };
    for item in limits.iter_mut().filter_map(Value::as_object_mut) {
        if item.get("type").and_then(Value::as_str) == Some("Container") {
            let list = |item: &Map<String, Value>, key: &str| {
                item.get(key).and_then(Value::as_object).cloned().unwrap_or_default()
            };
            let max = list(item, "max");
            let min = list(item, "min");
            let mut default = list(item, "default");
            let mut default_request = list(item, "defaultRequest");
            for (k, v) in &max {
                default.entry(k.clone()).or_insert_with(|| v.clone());
            }
            for (k, v) in &default {
                default_request.entry(k.clone()).or_insert_with(|| v.clone());
            }
            for (k, v) in &min {
                default_request.entry(k.clone()).or_insert_with(|| v.clone());
            }
            for (key, value) in [("default", default), ("defaultRequest", default_request)] {
                if !value.is_empty() {
                    item.insert(key.into(), Value::Object(value));
                }
            }
        }
        for key in ["max", "min", "default", "defaultRequest", "maxLimitRequestRatio"] {
            resource_list_defaults(item, key);
        }
    }
}

/// `SetDefaults_HorizontalPodAutoscaler`: one minimum replica, 80% average
/// CPU when no metric is given, the full scaling rules once `behavior` is
/// set.
fn hpa_defaults(object: &mut Value) {
    super::hpa_v1::drop_round_trip_annotations(object);
    let Some(spec) = obj_path(object, &["spec"]) else { return };
    set_default(spec, "minReplicas", json!(1));
    // `maxReplicas` has no omitempty.
    set_default(spec, "maxReplicas", json!(0));
    if spec.get("metrics").and_then(Value::as_array).is_none_or(Vec::is_empty) {
        spec.insert(
            "metrics".into(),
            json!([{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}]),
        );
    }
    if let Some(behavior) = spec.get_mut("behavior").and_then(Value::as_object_mut) {
        let up = json!({"stabilizationWindowSeconds": 0, "selectPolicy": "Max", "policies": [
            {"type": "Pods", "value": 4, "periodSeconds": 15}, {"type": "Percent", "value": 100, "periodSeconds": 15}]});
        let down = json!({"selectPolicy": "Max", "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}]});
        for (key, mut rules) in [("scaleUp", up), ("scaleDown", down)] {
            if let (Some(given), Some(target)) = (behavior.get(key).and_then(Value::as_object), rules.as_object_mut()) {
                for field in ["selectPolicy", "stabilizationWindowSeconds", "policies", "tolerance"] {
                    if let Some(v) = given.get(field).filter(|v| !v.is_null()) {
                        target.insert(field.into(), v.clone());
                    }
                }
            }
            behavior.insert(key.into(), rules);
        }
    }
}

// ------------------------------------------------------- create and update

fn set_status(object: &mut Value, status: Value) {
    if let Some(obj) = object.as_object_mut() {
        obj.insert("status".into(), status);
    }
}

fn drop_generation(object: &mut Value) {
    if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.shift_remove("generation");
    }
}

/// `PrepareForCreate`: the status reset to its zero value as Go serializes
/// it; only PDBs have a generation.
pub(crate) fn prepare_for_create(kind: PolicyKind, object: &mut Value) {
    match kind {
        PolicyKind::ResourceQuota => {
            set_status(object, json!({}));
            drop_generation(object);
        }
        PolicyKind::LimitRange => drop_generation(object),
        PolicyKind::PodDisruptionBudget => {
            set_status(
                object,
                json!({"disruptionsAllowed": 0, "currentHealthy": 0, "desiredHealthy": 0, "expectedPods": 0}),
            );
            if let Some(meta) = obj_path(object, &["metadata"]) {
                meta.insert("generation".into(), json!(1));
            }
        }
        PolicyKind::HorizontalPodAutoscaler => {
            set_status(object, json!({"desiredReplicas": 0, "currentMetrics": null}));
            drop_generation(object);
        }
    }
}

/// `PrepareForUpdate` (after the stored status is kept): a PDB's
/// generation moves with its spec.
pub(crate) fn prepare_for_update(kind: PolicyKind, new: &mut Value, old: &Value) {
    if kind == PolicyKind::PodDisruptionBudget {
        let old_generation = int_at(old, &["metadata", "generation"]).unwrap_or(0);
        let bump = !semantic_eq(at(new, &["spec"]), at(old, &["spec"]));
        if let Some(meta) = obj_path(new, &["metadata"]) {
            meta.insert("generation".into(), json!(old_generation + i64::from(bump)));
        }
    }
}

// ---------------------------------------------------------------- validation

/// A malformed quantity, reported as a decode error.
pub(crate) fn decode_error(kind: PolicyKind, object: &Value) -> Option<String> {
    match kind {
        PolicyKind::ResourceQuota => first_bad_quantity(
            [at(object, &["spec", "hard"]), at(object, &["status", "hard"]), at(object, &["status", "used"])]
                .into_iter()
                .flatten(),
        ),
        PolicyKind::LimitRange => first_bad_quantity(list_at(object, &["spec", "limits"]).iter().flat_map(|item| {
            ["max", "min", "default", "defaultRequest", "maxLimitRequestRatio"]
                .into_iter()
                .filter_map(|k| at(item, &[k]))
        })),
        PolicyKind::HorizontalPodAutoscaler => {
            let mut bad = None;
            for metric in list_at(object, &["spec", "metrics"]) {
                for source in ["object", "pods", "resource", "containerResource", "external"] {
                    for field in ["value", "averageValue"] {
                        if let Some(Value::String(text)) = at(metric, &[source, "target", field])
                            && bad.is_none()
                        {
                            bad = Quantity::parse(text).err().map(|e| e.to_string());
                        }
                    }
                }
            }
            bad
        }
        PolicyKind::PodDisruptionBudget => None,
    }
}

/// Validation of a new object beyond its metadata.
pub(crate) fn validate_create(kind: PolicyKind, object: &Value) -> Errs {
    match kind {
        PolicyKind::ResourceQuota => [quota_spec(object), quota_lists(object, "status", &["hard", "used"])].concat(),
        PolicyKind::LimitRange => limit_range_validate(object),
        PolicyKind::PodDisruptionBudget => pdb_validate(object),
        PolicyKind::HorizontalPodAutoscaler => hpa_validate(object, 1),
    }
}

/// Validation of an update, metadata included, in upstream's order.
pub(crate) fn validate_update(kind: PolicyKind, new: &Value, old: &Value, rules: MetaRules) -> Errs {
    let update_meta = || meta::validate_update(new, old, rules);
    let create_meta = || meta::validate_create(new, rules);
    match kind {
        PolicyKind::ResourceQuota => {
            let mut errs = [update_meta(), update_meta(), quota_spec(new)].concat();
            let scopes = |o: &Value| {
                let mut v: Vec<String> =
                    list_at(o, &["spec", "scopes"]).iter().filter_map(Value::as_str).map(str::to_owned).collect();
                v.sort();
                v.dedup();
                v
            };
            if scopes(new) != scopes(old) {
                let given = at(new, &["spec", "scopes"]).cloned().unwrap_or(Value::Null);
                errs.push(invalid_json(&Path::new("spec.scopes"), &given, "field is immutable"));
            }
            errs
        }
        PolicyKind::LimitRange => [update_meta(), create_meta(), limit_range_validate(new)].concat(),
        PolicyKind::PodDisruptionBudget => [update_meta(), pdb_validate(new)].concat(),
        PolicyKind::HorizontalPodAutoscaler => {
            let bound = if int_at(old, &["spec", "minReplicas"]) == Some(0) { 0 } else { 1 };
            [update_meta(), update_meta(), hpa_validate(new, bound)].concat()
        }
    }
}

/// `ValidateResourceQuotaResourceName`.
fn quota_resource_name(name: &str, p: &Path) -> Errs {
    let mut errs = resource_name_errors(name, p);
    if !(name.contains('/') || QUOTA_RESOURCES.contains(&name) || is_hugepages(name)) {
        errs.push(invalid(p, name, "must be a standard resource for quota"));
    }
    errs
}

/// The resource lists `keys` under `root` of a quota.
fn quota_lists(object: &Value, root: &str, keys: &[&str]) -> Errs {
    let mut errs = Errs::new();
    for key in keys {
        let lp = Path::new(root).child(key);
        for (name, value) in sorted_list(at(object, &[root, key])) {
            let kp = lp.key(name);
            errs.extend(quota_resource_name(name, &kp));
            if let Some(q) = quantity(value) {
                errs.extend(quantity_value_errors(name, &q, &kp));
            }
        }
    }
    errs
}

const QUOTA_SCOPES: &[&str] = &[
    "Terminating",
    "NotTerminating",
    "BestEffort",
    "NotBestEffort",
    "PriorityClass",
    "CrossNamespacePodAffinity",
    "VolumeAttributesClass",
];

/// `IsResourceQuotaScopeValidForResource`.
fn scope_valid_for(scope: &str, resource: &str) -> bool {
    let pod_compute = ["cpu", "memory", "limits.cpu", "limits.memory", "requests.cpu", "requests.memory"];
    match scope {
        "Terminating" | "NotTerminating" | "NotBestEffort" | "PriorityClass" | "CrossNamespacePodAffinity" => {
            resource == "pods" || pod_compute.contains(&resource)
        }
        "BestEffort" => resource == "pods",
        "VolumeAttributesClass" => {
            ["persistentvolumeclaims", "requests.storage"].contains(&resource)
                || resource.ends_with(".storageclass.storage.k8s.io/requests.storage")
        }
        _ => true,
    }
}

/// `ValidateResourceQuotaSpec`.
fn quota_spec(object: &Value) -> Errs {
    let mut errs = quota_lists(object, "spec", &["hard"]);
    let scopes: Vec<&str> = list_at(object, &["spec", "scopes"]).iter().map(|v| v.as_str().unwrap_or("")).collect();
    if scopes.is_empty() {
        return errs;
    }
    let rendered = render(&json!(scopes));
    let sp = Path::new("spec.scopes");
    let mut hard: Vec<&str> = sorted_list(at(object, &["spec", "hard"])).into_iter().map(|(k, _)| k).collect();
    hard.dedup();
    for scope in &scopes {
        if !QUOTA_SCOPES.contains(scope) {
            errs.push(invalid_rendered(&sp, &rendered, "unsupported scope"));
        }
        for resource in &hard {
            if (QUOTA_RESOURCES.contains(resource) || is_hugepages(resource)) && !scope_valid_for(scope, resource) {
                errs.push(invalid_rendered(&sp, &rendered, "unsupported scope applied to resource"));
            }
        }
    }
    for pair in [["BestEffort", "NotBestEffort"], ["Terminating", "NotTerminating"]] {
        if pair.iter().all(|p| scopes.contains(p)) {
            errs.push(invalid_rendered(&sp, &rendered, "conflicting scopes"));
        }
    }
    errs
}

/// `ValidateLimitRange` beyond metadata.
fn limit_range_validate(object: &Value) -> Errs {
    let lp = Path::new("spec.limits");
    let mut errs = Errs::new();
    let mut seen: Vec<&str> = Vec::new();
    for (i, item) in list_at(object, &["spec", "limits"]).iter().enumerate() {
        let ip = lp.index(i);
        let limit_type = s(item, &["type"]);
        let type_msgs = is_qualified_name(limit_type);
        if !type_msgs.is_empty() {
            errs.extend(type_msgs.iter().map(|m| invalid(&ip.child("type"), limit_type, m)));
        } else if !limit_type.contains('/') && !["Pod", "Container", "PersistentVolumeClaim"].contains(&limit_type) {
            errs.push(invalid(&ip.child("type"), limit_type, "must be a standard limit type or fully qualified"));
        }
        if seen.contains(&limit_type) {
            errs.push(duplicate(&ip.child("type"), limit_type));
        }
        seen.push(limit_type);
        let name_errors = |name: &str, p: &Path| match limit_type {
            "Pod" | "Container" => container_resource_name_errors(name, p),
            _ => resource_name_errors(name, p),
        };
        let mut lists: Vec<(&str, Vec<(&str, &Value)>)> = Vec::new();
        for key in ["max", "min"] {
            let list = sorted_list(at(item, &[key]));
            for (name, _) in &list {
                errs.extend(name_errors(name, &ip.child(key).key(name)));
            }
            lists.push((key, list));
        }
        if limit_type == "Pod" {
            for key in ["default", "defaultRequest"] {
                if map_at(item, &[key]).is_some_and(|m| !m.is_empty()) {
                    errs.push(forbidden(&ip.child(key), "may not be specified when `type` is 'Pod'"));
                }
            }
        } else {
            for key in ["default", "defaultRequest"] {
                let list = sorted_list(at(item, &[key]));
                for (name, _) in &list {
                    errs.extend(name_errors(name, &ip.child(key).key(name)));
                }
                lists.push((key, list));
            }
        }
        if limit_type == "PersistentVolumeClaim"
            && at(item, &["min", "storage"]).is_none()
            && at(item, &["max", "storage"]).is_none()
        {
            errs.push(required(
                &ip.child("limits"),
                "either minimum or maximum storage value is required, but neither was provided",
            ));
        }
        let ratios = sorted_list(at(item, &["maxLimitRequestRatio"]));
        for (name, _) in &ratios {
            errs.extend(name_errors(name, &ip.child("maxLimitRequestRatio").key(name)));
        }
        lists.push(("maxLimitRequestRatio", ratios));
        let get = |key: &str, name: &str| {
            lists
                .iter()
                .find(|(k, _)| *k == key)
                .and_then(|(_, l)| l.iter().find(|(n, _)| *n == name))
                .and_then(|(_, v)| quantity(v))
        };
        let mut keys: Vec<&str> = lists.iter().flat_map(|(_, l)| l.iter().map(|(n, _)| *n)).collect();
        keys.sort_unstable();
        keys.dedup();
        for k in keys {
            let (min, max) = (get("min", k), get("max", k));
            let (default, default_request) = (get("default", k), get("defaultRequest", k));
            let ratio = get("maxLimitRequestRatio", k);
            let q = |v: &Quantity| go_json_quantity(v);
            if let (Some(min), Some(max)) = (&min, &max)
                && min > max
            {
                errs.push(invalid_rendered(
                    &ip.child("min").key(k),
                    &q(min),
                    &format!("min value {min} is greater than max value {max}"),
                ));
            }
            if let (Some(dr), Some(min)) = (&default_request, &min)
                && min > dr
            {
                errs.push(invalid_rendered(
                    &ip.child("defaultRequest").key(k),
                    &q(dr),
                    &format!("min value {min} is greater than default request value {dr}"),
                ));
            }
            if let (Some(dr), Some(max)) = (&default_request, &max)
                && dr > max
            {
                errs.push(invalid_rendered(
                    &ip.child("defaultRequest").key(k),
                    &q(dr),
                    &format!("default request value {dr} is greater than max value {max}"),
                ));
            }
            if let (Some(dr), Some(d)) = (&default_request, &default)
                && dr > d
            {
                errs.push(invalid_rendered(
                    &ip.child("defaultRequest").key(k),
                    &q(dr),
                    &format!("default request value {dr} is greater than default limit value {d}"),
                ));
            }
            if let (Some(d), Some(min)) = (&default, &min)
                && min > d
            {
                errs.push(invalid_rendered(
                    &ip.child("default").key(k),
                    &q(min),
                    &format!("min value {min} is greater than default value {d}"),
                ));
            }
            if let (Some(d), Some(max)) = (&default, &max)
                && d > max
            {
                errs.push(invalid_rendered(
                    &ip.child("default").key(k),
                    &q(max),
                    &format!("default value {d} is greater than max value {max}"),
                ));
            }
            if let Some(r) = &ratio
                && r.cmp_i64(1) == std::cmp::Ordering::Less
            {
                errs.push(invalid_rendered(
                    &ip.child("maxLimitRequestRatio").key(k),
                    &q(r),
                    &format!("ratio {r} is less than 1"),
                ));
            }
            if let (Some(r), Some(min), Some(max)) = (&ratio, &min, &max) {
                let limit = max.milli_value() as f64 / min.milli_value() as f64;
                let value = r.milli_value() as f64 / 1000.0;
                if value > limit {
                    errs.push(invalid_rendered(
                        &ip.child("maxLimitRequestRatio").key(k),
                        &q(r),
                        &format!("ratio {r} is greater than max/min = {limit:.6}"),
                    ));
                }
            }
            if !overcommit_allowed(k)
                && let (Some(d), Some(dr)) = (&default, &default_request)
                && d != dr
            {
                errs.push(invalid_rendered(
                    &ip.child("defaultRequest").key(k),
                    &q(dr),
                    &format!("default value {d} must equal to defaultRequest value {dr} in {k}"),
                ));
            }
        }
    }
    errs
}

/// A `resource.Quantity` value in an error: its JSON form, a quoted string.
fn go_json_quantity(q: &Quantity) -> String {
    render(&json!(q.to_string()))
}

/// `ValidatePodDisruptionBudgetSpec`.
fn pdb_validate(object: &Value) -> Errs {
    let empty = json!({});
    let spec = at(object, &["spec"]).unwrap_or(&empty);
    let sp = Path::new("spec");
    let mut errs = Errs::new();
    let min = at(spec, &["minAvailable"]);
    let max = at(spec, &["maxUnavailable"]);
    if min.is_some() && max.is_some() {
        // The internal PodDisruptionBudgetSpec has no JSON tags.
        let internal = json!({
            "MinAvailable": min,
            "Selector": at(spec, &["selector"]).map(|sel| serde_json::from_str::<Value>(&super::apps::render_selector(Some(sel))).unwrap_or(Value::Null)),
            "MaxUnavailable": max,
            "UnhealthyPodEvictionPolicy": at(spec, &["unhealthyPodEvictionPolicy"]),
        });
        errs.push(invalid_rendered(
            &sp,
            &render_ordered(&internal),
            "minAvailable and maxUnavailable cannot be both set",
        ));
    }
    if min.is_some() {
        positive_percent_at_most_100(min, &sp.child("minAvailable"), &mut errs);
    }
    if max.is_some() {
        positive_percent_at_most_100(max, &sp.child("maxUnavailable"), &mut errs);
    }
    if at(spec, &["selector"]).is_some() {
        let _ = super::apps::selector_of(spec, &sp.child("selector"), &mut errs);
    }
    if let Some(policy) = str_at(spec, &["unhealthyPodEvictionPolicy"])
        && policy != "IfHealthyBudget"
        && policy != "AlwaysAllow"
    {
        errs.push(not_supported(&sp.child("unhealthyPodEvictionPolicy"), policy, &["AlwaysAllow", "IfHealthyBudget"]));
    }
    errs
}

/// `ValidateCrossVersionObjectReference` (kind and name).
fn object_reference(reference: &Value, p: &Path, errs: &mut Errs) {
    for key in ["kind", "name"] {
        let value = s(reference, &[key]);
        if value.is_empty() {
            errs.push(required(&p.child(key), ""));
        } else {
            errs.extend(is_path_segment_name(value).iter().map(|m| invalid(&p.child(key), value, m)));
        }
    }
}

/// `validateHorizontalPodAutoscalerSpec` with the lower bound of
/// `minReplicas` (0 only for objects that already have 0).
fn hpa_validate(object: &Value, min_bound: i64) -> Errs {
    let empty = json!({});
    let spec = at(object, &["spec"]).unwrap_or(&empty);
    let sp = Path::new("spec");
    let mut errs = Errs::new();
    let min = int_at(spec, &["minReplicas"]);
    let max = int_at(spec, &["maxReplicas"]).unwrap_or(0);
    if let Some(min) = min
        && min < min_bound
    {
        errs.push(invalid_int(&sp.child("minReplicas"), min, &format!("must be greater than or equal to {min_bound}")));
    }
    if max < 1 {
        errs.push(invalid_int(&sp.child("maxReplicas"), max, "must be greater than 0"));
    }
    if let Some(min) = min
        && max < min
    {
        errs.push(invalid_int(&sp.child("maxReplicas"), max, "must be greater than or equal to `minReplicas`"));
    }
    object_reference(at(spec, &["scaleTargetRef"]).unwrap_or(&empty), &sp.child("scaleTargetRef"), &mut errs);
    let mp = sp.child("metrics");
    let metrics = list_at(spec, &["metrics"]);
    let (mut object_metrics, mut external_metrics) = (false, false);
    for (i, metric) in metrics.iter().enumerate() {
        errs.extend(metric_errors(metric, &mp.index(i)));
        object_metrics |= s(metric, &["type"]) == "Object";
        external_metrics |= s(metric, &["type"]) == "External";
    }
    if min == Some(0) && !object_metrics && !external_metrics {
        errs.push(forbidden(
            &mp,
            "must specify at least one Object or External metric to support scaling to zero replicas",
        ));
    }
    if let Some(behavior) = at(spec, &["behavior"]) {
        for key in ["scaleUp", "scaleDown"] {
            if let Some(rules) = at(behavior, &[key]) {
                errs.extend(scaling_rules_errors(rules, &sp.child("behavior").child(key)));
            }
        }
    }
    errs
}

const METRIC_TYPES: &[&str] = &["ContainerResource", "External", "Object", "Pods", "Resource"];

/// `validateMetricSpec`.
fn metric_errors(metric: &Value, p: &Path) -> Errs {
    let mut errs = Errs::new();
    let metric_type = s(metric, &["type"]);
    if metric_type.is_empty() {
        errs.push(required(&p.child("type"), "must specify a metric source type"));
    }
    if !METRIC_TYPES.contains(&metric_type) {
        errs.push(not_supported(&p.child("type"), metric_type, METRIC_TYPES));
    }
    let sources = ["object", "external", "pods", "resource", "containerResource"];
    let present: Vec<&str> = sources.iter().copied().filter(|k| at(metric, &[k]).is_some()).collect();
    if let Some(first) = present.first() {
        let source = at(metric, &[first]).unwrap_or(&Value::Null);
        errs.extend(metric_source_errors(first, source, &p.child(first)));
    }
    let expected = match metric_type {
        "Object" => "object",
        "Pods" => "pods",
        "Resource" => "resource",
        "External" => "external",
        "ContainerResource" => "containerResource",
        _ => {
            errs.push(not_supported(&p.child("type"), metric_type, METRIC_TYPES));
            ""
        }
    };
    if !expected.is_empty() && at(metric, &[expected]).is_none() {
        errs.push(required(&p.child(expected), "must populate information for the given metric source"));
    }
    if present.len() != 1 {
        let mut others: Vec<&str> = present.into_iter().filter(|k| *k != expected).collect();
        others.sort_unstable();
        for other in others {
            errs.push(forbidden(&p.child(other), "must populate the given metric source only"));
        }
    }
    errs
}

/// The checks of one metric source.
fn metric_source_errors(kind: &str, source: &Value, p: &Path) -> Errs {
    let mut errs = Errs::new();
    let empty = json!({});
    let target = at(source, &["target"]).unwrap_or(&empty);
    let tp = p.child("target");
    let has = |k: &str| at(target, &[k]).is_some();
    let metric_name = |errs: &mut Errs| {
        let name = s(source, &["metric", "name"]);
        let np = p.child("metric").child("name");
        if name.is_empty() {
            errs.push(required(&np, "must specify a metric name"));
        } else {
            errs.extend(is_path_segment_name(name).iter().map(|m| invalid(&np, name, m)));
        }
    };
    match kind {
        "object" => {
            object_reference(
                at(source, &["describedObject"]).unwrap_or(&empty),
                &p.child("describedObject"),
                &mut errs,
            );
            metric_name(&mut errs);
            errs.extend(target_errors(target, &tp));
            if !has("value") && !has("averageValue") {
                errs.push(required(&tp.child("averageValue"), "must set either a target value or averageValue"));
            }
        }
        "external" => {
            metric_name(&mut errs);
            errs.extend(target_errors(target, &tp));
            if !has("value") && !has("averageValue") {
                errs.push(required(
                    &tp.child("averageValue"),
                    "must set either a target value for metric or a per-pod target",
                ));
            }
            if has("value") && has("averageValue") {
                errs.push(forbidden(
                    &tp.child("value"),
                    "may not set both a target value for metric and a per-pod target",
                ));
            }
        }
        "pods" => {
            metric_name(&mut errs);
            errs.extend(target_errors(target, &tp));
            if !has("averageValue") {
                errs.push(required(&tp.child("averageValue"), "must specify a positive target averageValue"));
            }
        }
        _ => {
            let name = s(source, &["name"]);
            if name.is_empty() {
                errs.push(required(&p.child("name"), "must specify a resource name"));
            } else if kind == "containerResource" {
                errs.extend(container_resource_name_errors(name, &p.child("name")));
            }
            if kind == "containerResource" {
                let container = s(source, &["container"]);
                if container.is_empty() {
                    errs.push(required(&p.child("container"), "must specify a container"));
                } else {
                    errs.extend(
                        is_dns1123_label(container).iter().map(|m| invalid(&p.child("container"), container, m)),
                    );
                }
            }
            errs.extend(target_errors(target, &tp));
            if !has("averageUtilization") && !has("averageValue") {
                errs.push(required(
                    &tp.child("averageUtilization"),
                    "must set either a target raw value or a target utilization",
                ));
            }
            if has("averageUtilization") && has("averageValue") {
                errs.push(forbidden(
                    &tp.child("averageValue"),
                    "may not set both a target raw value and a target utilization",
                ));
            }
        }
    }
    errs
}

/// `validateMetricTarget`.
fn target_errors(target: &Value, p: &Path) -> Errs {
    let mut errs = Errs::new();
    let target_type = s(target, &["type"]);
    if target_type.is_empty() {
        errs.push(required(&p.child("type"), "must specify a metric target type"));
    }
    if !["Utilization", "Value", "AverageValue"].contains(&target_type) {
        errs.push(invalid(&p.child("type"), target_type, "must be either Utilization, Value, or AverageValue"));
    }
    for key in ["value", "averageValue"] {
        if let Some(q) = at(target, &[key]).and_then(quantity)
            && q.sign() != std::cmp::Ordering::Greater
        {
            errs.push(invalid_rendered(&p.child(key), &go_json_quantity(&q), "must be positive"));
        }
    }
    if let Some(u) = int_at(target, &["averageUtilization"])
        && u < 1
    {
        errs.push(invalid_int(&p.child("averageUtilization"), u, "must be greater than 0"));
    }
    errs
}

/// `validateScalingRules`.
fn scaling_rules_errors(rules: &Value, p: &Path) -> Errs {
    let mut errs = Errs::new();
    if let Some(window) = int_at(rules, &["stabilizationWindowSeconds"]) {
        let wp = p.child("stabilizationWindowSeconds");
        if window < 0 {
            errs.push(invalid_int(&wp, window, "must be greater than or equal to zero"));
        }
        if window > 3600 {
            errs.push(invalid_int(&wp, window, "must be less than or equal to 3600"));
        }
    }
    if let Some(policy) = str_at(rules, &["selectPolicy"])
        && !["Disabled", "Max", "Min"].contains(&policy)
    {
        errs.push(not_supported(&p.child("selectPolicy"), policy, &["Disabled", "Max", "Min"]));
    }
    let pp = p.child("policies");
    let policies = list_at(rules, &["policies"]);
    if policies.is_empty() {
        errs.push(required(&pp, "must specify at least one Policy"));
    }
    for (i, policy) in policies.iter().enumerate() {
        let ip = pp.index(i);
        let policy_type = s(policy, &["type"]);
        if policy_type != "Pods" && policy_type != "Percent" {
            errs.push(not_supported(&ip.child("type"), policy_type, &["Percent", "Pods"]));
        }
        let value = int_at(policy, &["value"]).unwrap_or(0);
        if value <= 0 {
            errs.push(invalid_int(&ip.child("value"), value, "must be greater than zero"));
        }
        let period = int_at(policy, &["periodSeconds"]).unwrap_or(0);
        if period <= 0 {
            errs.push(invalid_int(&ip.child("periodSeconds"), period, "must be greater than zero"));
        }
        if period > 1800 {
            errs.push(invalid_int(&ip.child("periodSeconds"), period, "must be less than or equal to 1800"));
        }
    }
    errs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategy::meta::Finalizers;

    use crate::strategy::field::msgs;

    fn prepared(kind: PolicyKind, mut object: Value) -> Value {
        defaults(kind, &mut object);
        prepare_for_create(kind, &mut object);
        object
    }

    const RULES: MetaRules = MetaRules { name: name_is_dns_subdomain, namespaced: true, finalizers: Finalizers::Kube };

    #[test]
    fn resource_quotas() {
        let q = prepared(
            PolicyKind::ResourceQuota,
            json!({"metadata": {"name": "q", "generation": 1}, "spec": {"hard": {"pods": "10", "requests.cpu": "1.5"}}}),
        );
        assert_eq!(q["status"], json!({}));
        assert!(q["metadata"].get("generation").is_none());
        assert!(validate_create(PolicyKind::ResourceQuota, &q).is_empty());
        let bad = prepared(
            PolicyKind::ResourceQuota,
            json!({"metadata": {"name": "q"}, "spec": {"hard": {"pods": "1.5", "widgets": "1", "cpu": "-1"},
                   "scopes": ["BestEffort", "NotBestEffort"]}}),
        );
        assert_eq!(
            msgs(&validate_create(PolicyKind::ResourceQuota, &bad)),
            [
                "spec.hard[cpu]: Invalid value: \"-1\": must be greater than or equal to 0",
                "spec.hard[pods]: Invalid value: \"1500m\": must be an integer",
                "spec.hard[widgets]: Invalid value: \"widgets\": must be a standard resource type or fully qualified",
                "spec.hard[widgets]: Invalid value: \"widgets\": must be a standard resource for quota",
                "spec.scopes: Invalid value: [\"BestEffort\",\"NotBestEffort\"]: unsupported scope applied to resource",
                "spec.scopes: Invalid value: [\"BestEffort\",\"NotBestEffort\"]: conflicting scopes",
            ]
        );
        let mut new = q.clone();
        new["spec"]["scopes"] = json!(["NotTerminating"]);
        assert_eq!(
            msgs(&validate_update(PolicyKind::ResourceQuota, &new, &q, RULES)),
            ["spec.scopes: Invalid value: [\"NotTerminating\"]: field is immutable"]
        );
    }

    #[test]
    fn limit_ranges() {
        let lr = prepared(
            PolicyKind::LimitRange,
            json!({"metadata": {"name": "l", "generation": 1}, "spec": {"limits": [
                {"type": "Container", "max": {"cpu": "2"}, "min": {"memory": "64Mi"}}]}}),
        );
        assert_eq!(
            lr["spec"]["limits"][0],
            json!({"type": "Container", "max": {"cpu": "2"}, "min": {"memory": "64Mi"},
                   "default": {"cpu": "2"}, "defaultRequest": {"cpu": "2", "memory": "64Mi"}})
        );
        assert!(lr["metadata"].get("generation").is_none());
        assert!(validate_create(PolicyKind::LimitRange, &lr).is_empty());
        let bad = prepared(
            PolicyKind::LimitRange,
            json!({"metadata": {"name": "l"}, "spec": {"limits": [
                {"type": "Container", "max": {"cpu": "1"}, "min": {"cpu": "2"}},
                {"type": "Container"}, {"type": "Bogus"}, {"type": "PersistentVolumeClaim"}]}}),
        );
        assert_eq!(
            msgs(&validate_create(PolicyKind::LimitRange, &bad)),
            [
                "spec.limits[0].min[cpu]: Invalid value: \"2\": min value 2 is greater than max value 1",
                "spec.limits[0].defaultRequest[cpu]: Invalid value: \"1\": min value 2 is greater than default request value 1",
                "spec.limits[0].default[cpu]: Invalid value: \"2\": min value 2 is greater than default value 1",
                "spec.limits[1].type: Duplicate value: \"Container\"",
                "spec.limits[2].type: Invalid value: \"Bogus\": must be a standard limit type or fully qualified",
                "spec.limits[3].limits: Required value: either minimum or maximum storage value is required, but neither was provided",
            ]
        );
    }

    #[test]
    fn disruption_budgets() {
        let pdb = prepared(
            PolicyKind::PodDisruptionBudget,
            json!({"metadata": {"name": "p"}, "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "web"}}}}),
        );
        assert_eq!(
            pdb["status"],
            json!({"disruptionsAllowed": 0, "currentHealthy": 0, "desiredHealthy": 0, "expectedPods": 0})
        );
        assert_eq!(pdb["metadata"]["generation"], 1);
        assert!(validate_create(PolicyKind::PodDisruptionBudget, &pdb).is_empty());
        let mut bad = pdb.clone();
        bad["spec"]["maxUnavailable"] = json!("120%");
        bad["spec"]["unhealthyPodEvictionPolicy"] = json!("Never");
        assert_eq!(
            msgs(&validate_create(PolicyKind::PodDisruptionBudget, &bad)),
            [
                "spec: Invalid value: {\"MinAvailable\":1,\"Selector\":{\"matchLabels\":{\"app\":\"web\"}},\"MaxUnavailable\":\"120%\",\"UnhealthyPodEvictionPolicy\":\"Never\"}: minAvailable and maxUnavailable cannot be both set",
                "spec.maxUnavailable: Invalid value: \"120%\": must not be greater than 100%",
                "spec.unhealthyPodEvictionPolicy: Unsupported value: \"Never\": supported values: \"AlwaysAllow\", \"IfHealthyBudget\"",
            ]
        );
        let mut new = pdb.clone();
        new["spec"]["minAvailable"] = json!(2);
        prepare_for_update(PolicyKind::PodDisruptionBudget, &mut new, &pdb);
        assert_eq!(new["metadata"]["generation"], 2);
    }

    #[test]
    fn autoscalers() {
        let hpa = prepared(
            PolicyKind::HorizontalPodAutoscaler,
            json!({"metadata": {"name": "h", "generation": 1}, "spec": {"maxReplicas": 5,
                   "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                   "behavior": {"scaleDown": {"stabilizationWindowSeconds": 60}}}}),
        );
        assert_eq!(hpa["spec"]["minReplicas"], 1);
        assert_eq!(
            hpa["spec"]["metrics"],
            json!([{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}])
        );
        assert_eq!(
            hpa["spec"]["behavior"]["scaleDown"],
            json!({"selectPolicy": "Max", "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}], "stabilizationWindowSeconds": 60})
        );
        assert_eq!(
            hpa["spec"]["behavior"]["scaleUp"]["policies"][0],
            json!({"type": "Pods", "value": 4, "periodSeconds": 15})
        );
        assert_eq!(hpa["status"], json!({"desiredReplicas": 0, "currentMetrics": null}));
        assert!(hpa["metadata"].get("generation").is_none());
        assert!(validate_create(PolicyKind::HorizontalPodAutoscaler, &hpa).is_empty());
        let bad = prepared(
            PolicyKind::HorizontalPodAutoscaler,
            json!({"metadata": {"name": "h"}, "spec": {"minReplicas": 3, "maxReplicas": 2, "scaleTargetRef": {"kind": "Deployment"},
                   "metrics": [{"type": "Pods", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 0}}}]}}),
        );
        assert_eq!(
            msgs(&validate_create(PolicyKind::HorizontalPodAutoscaler, &bad)),
            [
                "spec.maxReplicas: Invalid value: 2: must be greater than or equal to `minReplicas`",
                "spec.scaleTargetRef.name: Required value",
                "spec.metrics[0].resource.target.averageUtilization: Invalid value: 0: must be greater than 0",
                "spec.metrics[0].pods: Required value: must populate information for the given metric source",
            ]
        );
    }

    #[test]
    fn names_and_quantities() {
        assert!(resource_name_errors("example.com/gpu", &Path::new("x")).is_empty());
        assert_eq!(
            msgs(&container_resource_name_errors("pods", &Path::new("x"))),
            ["x: Invalid value: \"pods\": must be a standard resource for containers"]
        );
        assert!(first_bad_quantity([json!({"a": "1Gi", "b": "lots"})].iter()).is_some());
        assert!(first_bad_quantity([json!({"a": "1Gi"})].iter()).is_none());
    }
}
