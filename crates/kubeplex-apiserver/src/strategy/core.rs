//! The core/v1 kinds other than Pod: Namespace, Service, Endpoints, ConfigMap,
//! Secret, ServiceAccount, Node (`pkg/registry/core/*/strategy.go`, their
//! defaults and `pkg/apis/core/validation`).

use base64::Engine as _;
use serde_json::{Map, Value, json};

use super::field::{
    Errs, Path, at, child_obj, duplicate_rendered, each_obj_mut, forbidden, immutable_str, int_at, invalid,
    invalid_int, invalid_json, list_at, map_at, not_supported, obj_path, render_ordered, required, s, set_default,
    set_default_str, sort_map, string_map, too_long,
};
use super::meta::kube_finalizer_name;
use super::podspec::{PORT_RANGE, config_map_key_errors, dns_label, port_num_or_name, protocol};

/// `core.MaxSecretSize`: 1 MiB for a Secret's or ConfigMap's data.
pub(crate) const MAX_SECRET_SIZE: usize = 1024 * 1024;

// ------------------------------------------------------------- Namespace

/// `SetDefaults_Namespace` / `Canonicalize`: the `kubernetes.io/metadata.name`
/// label always equals the name; `SetDefaults_NamespaceStatus`.
pub(crate) fn namespace_defaults(object: &mut Value) {
    let name = s(object, &["metadata", "name"]).to_owned();
    if !name.is_empty()
        && let Some(labels) = obj_path(object, &["metadata", "labels"])
    {
        labels.insert("kubernetes.io/metadata.name".into(), json!(name));
    }
    if let Some(spec) = obj_path(object, &["spec"]) {
        let _ = spec;
    }
    if let Some(status) = at(object, &["status"]).is_some().then(|| obj_path(object, &["status"])).flatten() {
        set_default_str(status, "phase", "Active");
    }
}

/// `PrepareForCreate`: phase `Active`, the `kubernetes` finalizer added.
pub(crate) fn namespace_prepare_create(object: &mut Value) {
    if let Some(spec) = obj_path(object, &["spec"]) {
        let finalizers = spec.entry("finalizers").or_insert(json!([]));
        if finalizers.is_null() {
            *finalizers = json!([]);
        }
        if let Some(list) = finalizers.as_array_mut()
            && !list.iter().any(|f| f == "kubernetes")
        {
            list.push(json!("kubernetes"));
        }
    }
    if let Some(obj) = object.as_object_mut() {
        obj.insert("status".into(), json!({"phase": "Active"}));
    }
}

/// `PrepareForUpdate`: `spec.finalizers` and the status stay as stored (they
/// change through `/finalize` and `/status`).
pub(crate) fn namespace_prepare_update(new: &mut Value, old: &Value) {
    if let Some(spec) = obj_path(new, &["spec"]) {
        match at(old, &["spec", "finalizers"]) {
            Some(f) => spec.insert("finalizers".into(), f.clone()),
            None => spec.remove("finalizers"),
        };
    }
}

/// `ValidateNamespace` beyond metadata: the `spec.finalizers` names.
pub(crate) fn namespace_validate(object: &Value) -> Errs {
    let mut errs = Errs::new();
    let path = Path::new("spec.finalizers");
    for f in list_at(object, &["spec", "finalizers"]).iter().filter_map(Value::as_str) {
        for msg in kubeplex_core::names::is_qualified_name(f) {
            errs.push(invalid(&path, f, &msg));
        }
        errs.extend(kube_finalizer_name(f, &path));
    }
    errs
}

// --------------------------------------------------------------- Service

/// `SetDefaults_Service`.
pub(crate) fn service_defaults(object: &mut Value) {
    let Some(spec) = obj_path(object, &["spec"]) else { return };
    set_default_str(spec, "sessionAffinity", "None");
    match spec.get("sessionAffinity").and_then(Value::as_str) {
        Some("None") => {
            spec.remove("sessionAffinityConfig");
        }
        Some("ClientIP") => {
            let has_timeout = spec
                .get("sessionAffinityConfig")
                .and_then(|c| c.get("clientIP"))
                .and_then(|c| c.get("timeoutSeconds"))
                .is_some_and(|t| !t.is_null());
            if !has_timeout {
                spec.insert("sessionAffinityConfig".into(), json!({"clientIP": {"timeoutSeconds": 10800}}));
            }
        }
        _ => {}
    }
    set_default_str(spec, "type", "ClusterIP");
    for port in each_obj_mut(spec, "ports") {
        set_default_str(port, "protocol", "TCP");
        let target_unset = match port.get("targetPort") {
            None | Some(Value::Null) => true,
            Some(Value::Number(n)) => n.as_i64() == Some(0),
            Some(Value::String(s)) => s.is_empty(),
            Some(_) => false,
        };
        if target_unset && let Some(p) = port.get("port").cloned() {
            port.insert("targetPort".into(), p);
        }
    }
    let kind = spec.get("type").and_then(Value::as_str).unwrap_or("").to_owned();
    if externally_accessible(spec) {
        set_default_str(spec, "externalTrafficPolicy", "Cluster");
    }
    if matches!(kind.as_str(), "NodePort" | "LoadBalancer" | "ClusterIP") {
        set_default(spec, "internalTrafficPolicy", json!("Cluster"));
    }
    if kind == "LoadBalancer" {
        set_default(spec, "allocateLoadBalancerNodePorts", json!(true));
    }
    sort_map(spec, "selector");
}

/// `service.ExternallyAccessible`.
fn externally_accessible(spec: &Map<String, Value>) -> bool {
    match spec.get("type").and_then(Value::as_str) {
        Some("LoadBalancer" | "NodePort") => true,
        Some("ClusterIP") => spec.get("externalIPs").and_then(Value::as_array).is_some_and(|a| !a.is_empty()),
        _ => false,
    }
}

fn is_headless(spec: &Value) -> bool {
    let ips = list_at(spec, &["clusterIPs"]);
    ips.len() == 1 && ips[0] == "None"
}

/// `PrepareForCreate` with what allocation decides first (`NormalizeClusterIPs`,
/// the IP family fields): status cleared to `{"loadBalancer":{}}`,
/// `clusterIPs` from `clusterIP`, `ipFamilyPolicy` and `ipFamilies` for a
/// single-stack IPv4 cluster. Cluster IPs and node ports themselves are
/// allocated elsewhere.
pub(crate) fn service_prepare_create(object: &mut Value) {
    if let Some(obj) = object.as_object_mut() {
        obj.insert("status".into(), json!({"loadBalancer": {}}));
    }
    let Some(spec) = obj_path(object, &["spec"]) else { return };
    let cluster_ip = spec.get("clusterIP").and_then(Value::as_str).unwrap_or("").to_owned();
    let has_ips = spec.get("clusterIPs").and_then(Value::as_array).is_some_and(|a| !a.is_empty());
    if !cluster_ip.is_empty() && !has_ips {
        spec.insert("clusterIPs".into(), json!([cluster_ip]));
    }
    if spec.get("type").and_then(Value::as_str) == Some("ExternalName") {
        return;
    }
    let spec_value = Value::Object(spec.clone());
    let headless = is_headless(&spec_value);
    let selectorless = map_at(&spec_value, &["selector"]).is_none_or(Map::is_empty);
    if headless && selectorless {
        set_default(spec, "ipFamilyPolicy", json!("RequireDualStack"));
    }
    set_default(spec, "ipFamilyPolicy", json!("SingleStack"));
    let dual =
        matches!(spec.get("ipFamilyPolicy").and_then(Value::as_str), Some("PreferDualStack" | "RequireDualStack"));
    let families = spec.entry("ipFamilies").or_insert(Value::Null);
    if families.as_array().is_none_or(Vec::is_empty) {
        *families = json!(["IPv4"]);
    }
    if dual
        && headless
        && let Some(list) = families.as_array_mut()
        && list.len() == 1
    {
        let other = if list[0] == "IPv6" { "IPv4" } else { "IPv6" };
        list.push(json!(other));
    }
}

fn needs_cluster_ip(spec: &Value) -> bool {
    s(spec, &["type"]) != "ExternalName"
}

fn needs_node_port(spec: &Value) -> bool {
    match s(spec, &["type"]) {
        "NodePort" => true,
        "LoadBalancer" => at(spec, &["allocateLoadBalancerNodePorts"]).and_then(Value::as_bool) != Some(false),
        _ => false,
    }
}

fn needs_hc_node_port(spec: &Value) -> bool {
    s(spec, &["type"]) == "LoadBalancer" && s(spec, &["externalTrafficPolicy"]) == "Local"
}

/// `PrepareForUpdate`: the status kept; allocated values a client left out
/// patched back in (`patchAllocatedValues`); `NormalizeClusterIPs`; fields that
/// no longer apply after a type change dropped (`dropTypeDependentFields`).
pub(crate) fn service_prepare_update(new: &mut Value, old: &Value) {
    if let Some(status) = at(old, &["status"]).cloned()
        && let Some(obj) = new.as_object_mut()
    {
        obj.insert("status".into(), status);
    }
    let empty = json!({});
    let old_spec = at(old, &["spec"]).unwrap_or(&empty).clone();
    let Some(spec) = obj_path(new, &["spec"]) else { return };
    let snapshot = Value::Object(spec.clone());
    // patchAllocatedValues
    if needs_cluster_ip(&old_spec) && needs_cluster_ip(&snapshot) {
        if s(&snapshot, &["clusterIP"]).is_empty()
            && let Some(ip) = at(&old_spec, &["clusterIP"])
        {
            spec.insert("clusterIP".into(), ip.clone());
        }
        if list_at(&snapshot, &["clusterIPs"]).is_empty() && !list_at(&old_spec, &["clusterIPs"]).is_empty() {
            spec.insert("clusterIPs".into(), old_spec["clusterIPs"].clone());
        }
    }
    if needs_node_port(&old_spec) && needs_node_port(&snapshot) {
        let used_old: Vec<i64> =
            list_at(&old_spec, &["ports"]).iter().filter_map(|p| int_at(p, &["nodePort"])).collect();
        let used_new: Vec<i64> =
            list_at(&snapshot, &["ports"]).iter().filter_map(|p| int_at(p, &["nodePort"])).collect();
        let by_name: Vec<(String, i64)> = list_at(&old_spec, &["ports"])
            .iter()
            .map(|p| (s(p, &["name"]).to_owned(), int_at(p, &["nodePort"]).unwrap_or(0)))
            .collect();
        for port in each_obj_mut(spec, "ports") {
            if port.get("nodePort").and_then(Value::as_i64).unwrap_or(0) != 0 {
                continue;
            }
            let name = port.get("name").and_then(Value::as_str).unwrap_or("");
            if let Some((_, np)) = by_name.iter().rev().find(|(n, _)| n == name)
                && *np != 0
                && !(used_old.contains(np) && used_new.contains(np))
            {
                port.insert("nodePort".into(), json!(np));
            }
        }
    }
    if needs_hc_node_port(&old_spec)
        && needs_hc_node_port(&snapshot)
        && int_at(&snapshot, &["healthCheckNodePort"]).unwrap_or(0) == 0
        && let Some(hc) = at(&old_spec, &["healthCheckNodePort"])
    {
        spec.insert("healthCheckNodePort".into(), hc.clone());
    }
    normalize_cluster_ips_update(spec, &old_spec);
    drop_type_dependent_fields(spec, &old_spec);
    if s(&Value::Object(spec.clone()), &["type"]) != "LoadBalancer"
        && let Some(status) = obj_path(new, &["status"])
    {
        status.insert("loadBalancer".into(), json!({}));
    }
}

fn same(spec: &Map<String, Value>, old: &Value, key: &str) -> bool {
    super::field::semantic_eq(spec.get(key), at(old, &[key]))
}

/// `NormalizeClusterIPs` for an update.
fn normalize_cluster_ips_update(spec: &mut Map<String, Value>, old: &Value) {
    let ips_empty = |m: &Map<String, Value>| m.get("clusterIPs").and_then(Value::as_array).is_none_or(Vec::is_empty);
    let new_ip = spec.get("clusterIP").and_then(Value::as_str).unwrap_or("").to_owned();
    let old_ip = s(old, &["clusterIP"]);
    if !list_at(old, &["clusterIPs"]).is_empty() && ips_empty(spec) && old_ip == new_ip {
        spec.insert("clusterIPs".into(), old["clusterIPs"].clone());
    }
    if old_ip != new_ip {
        if !old_ip.is_empty() && new_ip.is_empty() {
            if same(spec, old, "clusterIPs") {
                spec.remove("clusterIPs");
            }
        } else if same(spec, old, "clusterIPs") {
            spec.insert("clusterIPs".into(), json!([new_ip]));
        }
    }
}

/// `dropTypeDependentFields`.
fn drop_type_dependent_fields(spec: &mut Map<String, Value>, old: &Value) {
    let now = Value::Object(spec.clone());
    if needs_cluster_ip(old) && !needs_cluster_ip(&now) {
        if same(spec, old, "clusterIP") && same(spec, old, "clusterIPs") {
            spec.remove("clusterIP");
            spec.remove("clusterIPs");
        }
        if same(spec, old, "ipFamilies") {
            spec.remove("ipFamilies");
        }
        if same(spec, old, "ipFamilyPolicy") {
            spec.remove("ipFamilyPolicy");
        }
    }
    let node_ports = |v: &Value| -> Vec<i64> {
        list_at(v, &["ports"]).iter().map(|p| int_at(p, &["nodePort"]).unwrap_or(0)).collect()
    };
    if needs_node_port(old) && !needs_node_port(&now) && node_ports(old) == node_ports(&now) {
        for port in each_obj_mut(spec, "ports") {
            port.remove("nodePort");
        }
    }
    if needs_hc_node_port(old) && !needs_hc_node_port(&now) && same(spec, old, "healthCheckNodePort") {
        spec.remove("healthCheckNodePort");
    }
    if s(old, &["type"]) == "LoadBalancer" && s(&now, &["type"]) != "LoadBalancer" {
        if at(old, &["allocateLoadBalancerNodePorts"]).is_some() && same(spec, old, "allocateLoadBalancerNodePorts") {
            spec.remove("allocateLoadBalancerNodePorts");
        }
        if same(spec, old, "loadBalancerClass") {
            spec.remove("loadBalancerClass");
        }
    }
    let old_map = old.as_object().cloned().unwrap_or_default();
    if externally_accessible(&old_map) && !externally_accessible(spec) && same(spec, old, "externalTrafficPolicy") {
        spec.remove("externalTrafficPolicy");
    }
}

/// An internal `core.ServicePort` as Go marshals it (no JSON tags on internal
/// types), for the duplicate-port message.
fn internal_service_port(protocol: &str, port: i64) -> String {
    render_ordered(&json!({
        "Name": "", "Protocol": protocol, "AppProtocol": null, "Port": port, "TargetPort": 0, "NodePort": 0
    }))
}

/// `ValidateService` beyond metadata.
pub(crate) fn service_validate(object: &Value) -> Errs {
    let empty = json!({});
    let spec = at(object, &["spec"]).unwrap_or(&empty);
    let sp = Path::new("spec");
    let mut errs = Errs::new();
    let annotations = string_map(object, &["metadata", "annotations"]);
    let hints = annotations.iter().find(|(k, _)| *k == "service.kubernetes.io/topology-aware-hints").map(|(_, v)| *v);
    let mode = annotations.iter().find(|(k, _)| *k == "service.kubernetes.io/topology-mode").map(|(_, v)| *v);
    if let (Some(h), Some(m)) = (hints, mode)
        && h != m
    {
        errs.push(invalid(
            &Path::new("metadata.annotations").key("service.kubernetes.io/topology-mode"),
            m,
            "must match annotations[service.kubernetes.io/topology-aware-hints] when both are specified",
        ));
    }
    let kind = s(spec, &["type"]);
    let headless = is_headless(spec);
    let ports = list_at(spec, &["ports"]);
    if ports.is_empty() && !headless && kind != "ExternalName" {
        errs.push(required(&sp.child("ports"), ""));
    }
    match kind {
        "LoadBalancer" | "NodePort" if headless => errs.push(invalid(
            &sp.child("clusterIPs").index(0),
            "None",
            &format!("may not be set to 'None' for {kind} services"),
        )),
        "ExternalName" => {
            if !list_at(spec, &["clusterIPs"]).is_empty() {
                errs.push(forbidden(&sp.child("clusterIPs"), "may not be set for ExternalName services"));
            }
            if !list_at(spec, &["ipFamilies"]).is_empty() {
                errs.push(forbidden(&sp.child("ipFamilies"), "may not be set for ExternalName services"));
            }
            if at(spec, &["ipFamilyPolicy"]).is_some() {
                errs.push(forbidden(&sp.child("ipFamilyPolicy"), "may not be set for ExternalName services"));
            }
            let cname = s(spec, &["externalName"]);
            let cname = cname.strip_suffix('.').unwrap_or(cname);
            if cname.is_empty() {
                errs.push(required(&sp.child("externalName"), ""));
            } else {
                for msg in kubeplex_core::names::is_dns1123_subdomain(cname) {
                    errs.push(invalid(&sp.child("externalName"), cname, &msg));
                }
            }
        }
        _ => {}
    }
    let mut names = std::collections::BTreeSet::new();
    for (i, port) in ports.iter().enumerate() {
        let pp = sp.child("ports").index(i);
        let name = s(port, &["name"]);
        if ports.len() > 1 && name.is_empty() {
            errs.push(required(&pp.child("name"), ""));
        } else if !name.is_empty() {
            dns_label(name, &pp.child("name"), &mut errs);
            if !names.insert(name) {
                errs.push(super::field::duplicate(&pp.child("name"), name));
            }
        }
        let number = int_at(port, &["port"]).unwrap_or(0);
        if !(1..=65535).contains(&number) {
            errs.push(invalid_int(&pp.child("port"), number, PORT_RANGE));
        }
        protocol(port, &pp.child("protocol"), &mut errs);
        port_num_or_name(at(port, &["targetPort"]), &pp.child("targetPort"), &mut errs);
        if let Some(app) = at(port, &["appProtocol"]).and_then(Value::as_str) {
            for msg in kubeplex_core::names::is_qualified_name(app) {
                errs.push(invalid(&pp.child("appProtocol"), app, &msg));
            }
        }
    }
    if at(spec, &["selector"]).is_some() {
        errs.extend(kubeplex_core::names::validate_labels(string_map(spec, &["selector"]), "spec.selector"));
    }
    let affinity = s(spec, &["sessionAffinity"]);
    match affinity {
        "" => errs.push(required(&sp.child("sessionAffinity"), "")),
        "ClientIP" => {
            let cp = sp.child("sessionAffinityConfig");
            match at(spec, &["sessionAffinityConfig"]) {
                None => errs.push(required(&cp, "when session affinity type is ClientIP")),
                Some(c) => match at(c, &["clientIP"]) {
                    None => errs.push(required(&cp.child("clientIP"), "when session affinity type is ClientIP")),
                    Some(ip) => match int_at(ip, &["timeoutSeconds"]) {
                        None => errs.push(required(
                            &cp.child("clientIP").child("timeoutSeconds"),
                            "when session affinity type is ClientIP",
                        )),
                        Some(t) if t <= 0 || t > 86400 => errs.push(invalid_int(
                            &cp.child("clientIP").child("timeoutSeconds"),
                            t,
                            "must be greater than 0 and less than 86400",
                        )),
                        Some(_) => {}
                    },
                },
            }
        }
        "None" => {
            if at(spec, &["sessionAffinityConfig"]).is_some() {
                errs.push(forbidden(
                    &sp.child("sessionAffinityConfig"),
                    "must not be set when session affinity is None",
                ));
            }
        }
        other => errs.push(not_supported(&sp.child("sessionAffinity"), other, &["ClientIP", "None"])),
    }
    errs.extend(cluster_ips_related(spec, kind));
    for (i, ip) in list_at(spec, &["externalIPs"]).iter().enumerate() {
        let ip = ip.as_str().unwrap_or("");
        errs.extend(ip_errors(ip, &sp.child("externalIPs").index(i)));
    }
    match kind {
        "" => errs.push(required(&sp.child("type"), "")),
        "ClusterIP" | "NodePort" | "LoadBalancer" | "ExternalName" => {}
        other => errs.push(not_supported(
            &sp.child("type"),
            other,
            &["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"],
        )),
    }
    if kind == "ClusterIP" {
        for (i, port) in ports.iter().enumerate() {
            if int_at(port, &["nodePort"]).unwrap_or(0) != 0 {
                errs.push(forbidden(
                    &sp.child("ports").index(i).child("nodePort"),
                    "may not be used when `type` is 'ClusterIP'",
                ));
            }
        }
    }
    let mut node_ports = std::collections::BTreeSet::new();
    for (i, port) in ports.iter().enumerate() {
        let np = int_at(port, &["nodePort"]).unwrap_or(0);
        if np != 0 && !node_ports.insert((s(port, &["protocol"]), np)) {
            errs.push(duplicate_rendered(&sp.child("ports").index(i).child("nodePort"), &np.to_string()));
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    for (i, port) in ports.iter().enumerate() {
        let key = (s(port, &["protocol"]), int_at(port, &["port"]).unwrap_or(0));
        if !seen.insert(key) {
            errs.push(duplicate_rendered(&sp.child("ports").index(i), &internal_service_port(key.0, key.1)));
        }
    }
    let ranges = list_at(spec, &["loadBalancerSourceRanges"]);
    if !ranges.is_empty() && kind != "LoadBalancer" {
        errs.push(forbidden(&sp.child("LoadBalancerSourceRanges"), "may only be used when `type` is 'LoadBalancer'"));
    }
    if at(spec, &["allocateLoadBalancerNodePorts"]).is_some() && kind != "LoadBalancer" {
        errs.push(forbidden(
            &sp.child("allocateLoadBalancerNodePorts"),
            "may only be used when `type` is 'LoadBalancer'",
        ));
    }
    if kind == "LoadBalancer" && at(spec, &["allocateLoadBalancerNodePorts"]).is_none() {
        errs.push(required(&Path::new("allocateLoadBalancerNodePorts"), ""));
    }
    match at(spec, &["loadBalancerClass"]).and_then(Value::as_str) {
        Some(class) if kind == "LoadBalancer" => {
            for msg in kubeplex_core::names::is_qualified_name(class) {
                errs.push(invalid(&sp.child("loadBalancerClass"), class, &msg));
            }
        }
        Some(_) => {
            errs.push(forbidden(&sp.child("loadBalancerClass"), "may only be used when `type` is 'LoadBalancer'"))
        }
        None => {}
    }
    let etp = s(spec, &["externalTrafficPolicy"]);
    let spec_map = spec.as_object().cloned().unwrap_or_default();
    if !externally_accessible(&spec_map) {
        if !etp.is_empty() {
            errs.push(invalid(
                &sp.child("externalTrafficPolicy"),
                etp,
                "may only be set for externally-accessible services",
            ));
        }
    } else if etp.is_empty() {
        errs.push(required(&sp.child("externalTrafficPolicy"), ""));
    } else if etp != "Cluster" && etp != "Local" {
        errs.push(not_supported(&sp.child("externalTrafficPolicy"), etp, &["Cluster", "Local"]));
    }
    let hc = int_at(spec, &["healthCheckNodePort"]).unwrap_or(0);
    if !needs_hc_node_port(spec) {
        if hc != 0 {
            errs.push(invalid_int(
                &sp.child("healthCheckNodePort"),
                hc,
                "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'",
            ));
        }
    } else if hc == 0 {
        errs.push(required(&sp.child("healthCheckNodePort"), ""));
    } else if !(1..=65535).contains(&hc) {
        errs.push(invalid_int(&sp.child("healthCheckNodePort"), hc, PORT_RANGE));
    }
    match at(spec, &["internalTrafficPolicy"]).and_then(Value::as_str) {
        None if matches!(kind, "NodePort" | "LoadBalancer" | "ClusterIP") => {
            errs.push(required(&sp.child("internalTrafficPolicy"), ""));
        }
        Some(p) if p != "Cluster" && p != "Local" => {
            errs.push(not_supported(&sp.child("internalTrafficPolicy"), p, &["Cluster", "Local"]));
        }
        _ => {}
    }
    if let Some(td) = at(spec, &["trafficDistribution"]).and_then(Value::as_str)
        && !["PreferClose", "PreferSameZone", "PreferSameNode"].contains(&td)
    {
        errs.push(not_supported(
            &sp.child("trafficDistribution"),
            td,
            &["PreferClose", "PreferSameZone", "PreferSameNode"],
        ));
    }
    errs
}

/// `IsValidIP` (strict): a parseable IP in canonical form.
pub(crate) fn ip_errors(ip: &str, p: &Path) -> Errs {
    match ip.parse::<std::net::IpAddr>() {
        Ok(parsed) => {
            if let std::net::IpAddr::V6(v6) = parsed
                && v6.to_ipv4_mapped().is_some()
            {
                return vec![invalid(p, ip, "must not be an IPv4-mapped IPv6 address")];
            }
            if parsed.to_string() != ip {
                return vec![invalid(p, ip, &format!("must be in canonical form ({:?})", parsed.to_string()))];
            }
            Errs::new()
        }
        Err(_) => vec![invalid(p, ip, "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)")],
    }
}

/// `ValidateServiceClusterIPsRelatedFields`.
fn cluster_ips_related(spec: &Value, kind: &str) -> Errs {
    let mut errs = Errs::new();
    if kind == "ExternalName" {
        return errs;
    }
    let sp = Path::new("spec");
    let ips_path = sp.child("clusterIPs");
    let ips_value = at(spec, &["clusterIPs"]).cloned().unwrap_or(Value::Null);
    let ips: Vec<&str> = list_at(spec, &["clusterIPs"]).iter().map(|v| v.as_str().unwrap_or("")).collect();
    let cluster_ip = s(spec, &["clusterIP"]);
    if !cluster_ip.is_empty() {
        if ips.is_empty() {
            errs.push(required(&ips_path, ""));
        } else if ips[0] != cluster_ip {
            errs.push(invalid_json(&ips_path, &ips_value, "first value must match `clusterIP`"));
        }
    } else if !ips.is_empty() {
        errs.push(invalid_json(&ips_path, &ips_value, "must be empty when `clusterIP` is not specified"));
    }
    let mut seen = std::collections::BTreeSet::new();
    for (i, family) in list_at(spec, &["ipFamilies"]).iter().enumerate() {
        let family = family.as_str().unwrap_or("");
        if family != "IPv4" && family != "IPv6" {
            errs.push(not_supported(&sp.child("ipFamilies").index(i), family, &["IPv4", "IPv6"]));
        }
        if !seen.insert(family) {
            errs.push(super::field::duplicate(&sp.child("ipFamilies").index(i), family));
        }
    }
    if let Some(policy) = at(spec, &["ipFamilyPolicy"]).and_then(Value::as_str)
        && !["SingleStack", "PreferDualStack", "RequireDualStack"].contains(&policy)
    {
        errs.push(not_supported(
            &sp.child("ipFamilyPolicy"),
            policy,
            &["PreferDualStack", "RequireDualStack", "SingleStack"],
        ));
    }
    let mut bad_ips = false;
    for (i, ip) in ips.iter().enumerate() {
        if i == 0 && *ip == "None" {
            if ips.len() > 1 {
                bad_ips = true;
                errs.push(invalid_json(&ips_path, &ips_value, "'None' must be the first and only value"));
            }
            continue;
        }
        let ip_errs = ip_errors(ip, &ips_path.index(i));
        bad_ips |= !ip_errs.is_empty();
        errs.extend(ip_errs);
    }
    if ips.len() > 2 {
        errs.push(invalid_json(&ips_path, &ips_value, "may only hold up to 2 values"));
    }
    if bad_ips {
        return errs;
    }
    if ips.len() > 1 {
        let v6: Vec<bool> = ips.iter().map(|ip| ip.contains(':')).collect();
        if ips.len() != 2 || v6[0] == v6[1] {
            errs.push(invalid_json(&ips_path, &ips_value, "may specify no more than one IP for each IP family"));
        }
    }
    if !is_headless(spec) {
        let families = list_at(spec, &["ipFamilies"]);
        for (i, ip) in ips.iter().enumerate() {
            let Some(family) = families.get(i).and_then(Value::as_str) else { break };
            if family == "IPv4" && ip.contains(':') {
                errs.push(invalid(
                    &ips_path.index(i),
                    ip,
                    &format!("expected an IPv4 value as indicated by `ipFamilies[{i}]`"),
                ));
            }
            if family == "IPv6" && !ip.contains(':') {
                errs.push(invalid(
                    &ips_path.index(i),
                    ip,
                    &format!("expected an IPv6 value as indicated by `ipFamilies[{i}]`"),
                ));
            }
        }
    }
    errs
}

/// `ValidateServiceUpdate` beyond metadata and `ValidateService`: cluster IPs
/// and IP families may not change once set, nor the load balancer class or
/// the health-check node port.
pub(crate) fn service_validate_update(new: &Value, old: &Value) -> Errs {
    let empty = json!({});
    let ns = at(new, &["spec"]).unwrap_or(&empty);
    let os = at(old, &["spec"]).unwrap_or(&empty);
    let mut errs = Errs::new();
    let ext = s(ns, &["type"]) == "ExternalName" || s(os, &["type"]) == "ExternalName";
    let ips_path = Path::new("spec.clusterIPs");
    let new_ips = list_at(ns, &["clusterIPs"]);
    let old_ips = list_at(os, &["clusterIPs"]);
    let new_ips_value = at(ns, &["clusterIPs"]).cloned().unwrap_or(Value::Null);
    if !(ext || is_headless(ns) && is_headless(os)) {
        if new_ips.len() == old_ips.len() {
            for (i, ip) in old_ips.iter().enumerate() {
                if *ip != new_ips[i] {
                    errs.push(invalid_json(&ips_path.index(i), &new_ips_value, "may not change once set"));
                }
            }
        } else if old_ips.len() > new_ips.len() {
            if new_ips.is_empty() {
                errs.push(invalid_json(&ips_path.index(0), &new_ips_value, "primary clusterIP can not be unset"));
            }
            if !new_ips.is_empty() && new_ips[0] != old_ips[0] {
                errs.push(invalid_json(&ips_path.index(0), &new_ips_value, "may not change once set"));
            }
            if new_ips.len() == 1 && s(ns, &["ipFamilyPolicy"]) != "SingleStack" {
                errs.push(invalid_json(
                    &Path::new("spec.ipFamilyPolicy"),
                    at(ns, &["ipFamilyPolicy"]).unwrap_or(&Value::Null),
                    "must be set to 'SingleStack' when releasing the secondary clusterIP",
                ));
            }
        } else if !old_ips.is_empty() && new_ips[0] != old_ips[0] {
            errs.push(invalid_json(&ips_path.index(0), &new_ips_value, "may not change once set"));
        }
    }
    if !ext && is_headless(ns) == is_headless(os) && !is_headless(ns) {
        let fam_path = Path::new("spec.ipFamilies").index(0);
        let nf = list_at(ns, &["ipFamilies"]);
        let of = list_at(os, &["ipFamilies"]);
        let nf_value = at(ns, &["ipFamilies"]).cloned().unwrap_or(Value::Null);
        if nf.len() == of.len() {
            for (i, f) in of.iter().enumerate() {
                if *f != nf[i] {
                    errs.push(invalid_json(&fam_path, &nf_value, "may not change once set"));
                }
            }
        } else if of.len() > nf.len() {
            if new_ips.is_empty() {
                errs.push(invalid_json(&fam_path, &nf_value, "primary ipFamily can not be unset"));
            }
            if !nf.is_empty() && nf[0] != of[0] {
                errs.push(invalid_json(&fam_path, &new_ips_value, "may not change once set"));
            }
            if nf.len() == 1 && s(ns, &["ipFamilyPolicy"]) != "SingleStack" {
                errs.push(invalid_json(
                    &Path::new("spec.ipFamilyPolicy"),
                    at(ns, &["ipFamilyPolicy"]).unwrap_or(&Value::Null),
                    "must be set to 'SingleStack' when releasing the secondary ipFamily",
                ));
            }
        } else if !of.is_empty() && !nf.is_empty() && nf[0] != of[0] {
            errs.push(invalid_json(&fam_path, &new_ips_value, "may not change once set"));
        }
    }
    if s(ns, &["type"]) == "LoadBalancer"
        && s(os, &["type"]) == "LoadBalancer"
        && !super::field::semantic_eq(at(ns, &["loadBalancerClass"]), at(os, &["loadBalancerClass"]))
    {
        errs.push(invalid_json(
            &Path::new("spec.loadBalancerClass"),
            at(ns, &["loadBalancerClass"]).unwrap_or(&Value::Null),
            "may not change once set",
        ));
    }
    if needs_hc_node_port(ns)
        && needs_hc_node_port(os)
        && int_at(ns, &["healthCheckNodePort"]) != int_at(os, &["healthCheckNodePort"])
    {
        errs.push(forbidden(&Path::new("spec.healthCheckNodePort"), "field is immutable"));
    }
    errs
}

// ------------------------------------------------------------- Endpoints

/// `SetDefaults_Endpoints`: ports default to TCP.
pub(crate) fn endpoints_defaults(object: &mut Value) {
    let Some(obj) = object.as_object_mut() else { return };
    for subset in each_obj_mut(obj, "subsets") {
        for port in each_obj_mut(subset, "ports") {
            set_default_str(port, "protocol", "TCP");
        }
    }
}

/// `ValidateNonSpecialIP`.
pub(crate) fn non_special_ip(ip: &str, p: &Path) -> Errs {
    let Ok(parsed) = ip.parse::<std::net::IpAddr>() else {
        return vec![invalid(p, ip, "must be a valid IP address")];
    };
    let mut errs = Errs::new();
    if parsed.is_unspecified() {
        errs.push(invalid(p, ip, &format!("may not be unspecified ({ip})")));
    }
    if parsed.is_loopback() {
        errs.push(invalid(p, ip, "may not be in the loopback range (127.0.0.0/8, ::1/128)"));
    }
    let link_local_unicast = match parsed {
        std::net::IpAddr::V4(v4) => v4.is_link_local(),
        std::net::IpAddr::V6(v6) => (v6.segments()[0] & 0xffc0) == 0xfe80,
    };
    if link_local_unicast {
        errs.push(invalid(p, ip, "may not be in the link-local range (169.254.0.0/16, fe80::/10)"));
    }
    let link_local_multicast = match parsed {
        std::net::IpAddr::V4(v4) => v4.octets()[..3] == [224, 0, 0],
        std::net::IpAddr::V6(v6) => (v6.segments()[0] & 0xff0f) == 0xff02,
    };
    if link_local_multicast {
        errs.push(invalid(p, ip, "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)"));
    }
    errs
}

/// `ValidateEndpoints` beyond metadata.
pub(crate) fn endpoints_validate(object: &Value) -> Errs {
    let mut errs = Errs::new();
    for (i, subset) in list_at(object, &["subsets"]).iter().enumerate() {
        let ip = Path::new("subsets").index(i);
        let addresses = list_at(subset, &["addresses"]);
        let not_ready = list_at(subset, &["notReadyAddresses"]);
        if addresses.is_empty() && not_ready.is_empty() {
            errs.push(required(&ip, "must specify `addresses` or `notReadyAddresses`"));
        }
        for (field, list) in [("addresses", addresses), ("notReadyAddresses", not_ready)] {
            for (j, address) in list.iter().enumerate() {
                let ap = ip.child(field).index(j);
                let addr = s(address, &["ip"]);
                let valid = addr.parse::<std::net::IpAddr>().is_ok();
                if !valid {
                    errs.push(invalid(
                        &ap.child("ip"),
                        addr,
                        "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)",
                    ));
                }
                let hostname = s(address, &["hostname"]);
                if !hostname.is_empty() {
                    dns_label(hostname, &ap.child("hostname"), &mut errs);
                }
                if let Some(node) = at(address, &["nodeName"]).and_then(Value::as_str) {
                    for msg in kubeplex_core::names::name_is_dns_subdomain(node, false) {
                        errs.push(invalid(&ap.child("nodeName"), node, &msg));
                    }
                }
                errs.extend(non_special_ip(addr, &ap.child("ip")));
            }
        }
        let ports = list_at(subset, &["ports"]);
        for (j, port) in ports.iter().enumerate() {
            let pp = ip.child("ports").index(j);
            let name = s(port, &["name"]);
            if ports.len() > 1 && name.is_empty() {
                errs.push(required(&pp.child("name"), ""));
            } else if !name.is_empty() {
                dns_label(name, &pp.child("name"), &mut errs);
            }
            let number = int_at(port, &["port"]).unwrap_or(0);
            if !(1..=65535).contains(&number) {
                errs.push(invalid_int(&pp.child("port"), number, PORT_RANGE));
            }
            protocol(port, &pp.child("protocol"), &mut errs);
            if let Some(app) = at(port, &["appProtocol"]).and_then(Value::as_str) {
                for msg in kubeplex_core::names::is_qualified_name(app) {
                    errs.push(invalid(&pp.child("appProtocol"), app, &msg));
                }
            }
        }
    }
    errs
}

// ------------------------------------------------------ ConfigMap, Secret

/// Base64 values of a Secret's `data` or a ConfigMap's `binaryData`, decoded;
/// the first undecodable value gives the decode error upstream reports.
fn decoded_sizes(object: &Value, field: &str) -> Result<Vec<(String, usize)>, String> {
    let mut out = Vec::new();
    for (k, v) in map_at(object, &[field]).into_iter().flatten() {
        let text = v.as_str().unwrap_or("");
        match base64::engine::general_purpose::STANDARD.decode(text) {
            Ok(bytes) => out.push((k.clone(), bytes.len())),
            Err(e) => return Err(go_base64_error(&e)),
        }
    }
    Ok(out)
}

/// Go's `base64.CorruptInputError` text.
fn go_base64_error(e: &base64::DecodeError) -> String {
    let offset = match e {
        base64::DecodeError::InvalidByte(i, _) | base64::DecodeError::InvalidLastSymbol(i, _) => *i,
        base64::DecodeError::InvalidLength(n) => *n,
        base64::DecodeError::InvalidPadding => 0,
    };
    format!("illegal base64 data at input byte {offset}")
}

/// Decode errors upstream raises before validation (400 `BadRequest`).
pub(crate) fn secret_decode_error(object: &Value) -> Option<String> {
    decoded_sizes(object, "data").err()
}

/// Decode errors of a ConfigMap's `binaryData`.
pub(crate) fn config_map_decode_error(object: &Value) -> Option<String> {
    decoded_sizes(object, "binaryData").err()
}

/// `SetDefaults_Secret` and the v1 conversion: type `Opaque`; `stringData`
/// merged into `data` (base64) and dropped.
pub(crate) fn secret_defaults(object: &mut Value) {
    let Some(obj) = object.as_object_mut() else { return };
    set_default_str(obj, "type", "Opaque");
    if let Some(Value::Object(string_data)) = obj.remove("stringData")
        && let Some(data) = child_obj(obj, "data")
    {
        for (k, v) in string_data {
            let text = v.as_str().unwrap_or("");
            data.insert(k, json!(base64::engine::general_purpose::STANDARD.encode(text)));
        }
    }
    sort_map(obj, "data");
}

/// `ValidateSecret` beyond metadata.
pub(crate) fn secret_validate(object: &Value) -> Errs {
    let data = Path::new("data");
    let mut errs = Errs::new();
    let sizes = decoded_sizes(object, "data").unwrap_or_default();
    let mut total = 0;
    for (k, size) in &sizes {
        for msg in config_map_key_errors(k) {
            errs.push(invalid(&data.key(k), k, &msg));
        }
        total += size;
    }
    if total > MAX_SECRET_SIZE {
        errs.push(too_long(&data, MAX_SECRET_SIZE));
    }
    let has = |k: &str| sizes.iter().any(|(key, _)| key == k);
    let size_of = |k: &str| sizes.iter().find(|(key, _)| key == k).map_or(0, |(_, n)| *n);
    let decoded = |k: &str| -> Option<Vec<u8>> {
        at(object, &["data", k])
            .and_then(Value::as_str)
            .and_then(|t| base64::engine::general_purpose::STANDARD.decode(t).ok())
    };
    match s(object, &["type"]) {
        "kubernetes.io/service-account-token"
            if s(object, &["metadata", "annotations", "kubernetes.io/service-account.name"]).is_empty() =>
        {
            errs.push(required(&Path::new("metadata.annotations").key("kubernetes.io/service-account.name"), ""));
        }
        "kubernetes.io/dockercfg" | "kubernetes.io/dockerconfigjson" => {
            let key =
                if s(object, &["type"]) == "kubernetes.io/dockercfg" { ".dockercfg" } else { ".dockerconfigjson" };
            match decoded(key) {
                None if !has(key) => errs.push(required(&data.key(key), "")),
                bytes => {
                    let ok = bytes
                        .as_deref()
                        .and_then(|b| serde_json::from_slice::<Value>(b).ok())
                        .is_some_and(|v| v.is_object());
                    if !ok {
                        errs.push(invalid(&data.key(key), "<secret contents redacted>", "invalid character in JSON"));
                    }
                }
            }
        }
        "kubernetes.io/basic-auth" if !has("username") && !has("password") => {
            errs.push(required(&data.key("username"), ""));
            errs.push(required(&data.key("password"), ""));
        }
        "kubernetes.io/ssh-auth" if size_of("ssh-privatekey") == 0 => {
            errs.push(required(&data.key("ssh-privatekey"), ""));
        }
        "kubernetes.io/tls" => {
            if !has("tls.crt") {
                errs.push(required(&data.key("tls.crt"), ""));
            }
            if !has("tls.key") {
                errs.push(required(&data.key("tls.key"), ""));
            }
        }
        _ => {}
    }
    errs
}

/// `immutable: true` forbids changing `immutable` back and the data.
fn immutable_data(new: &Value, old: &Value, fields: &[&str], errs: &mut Errs) {
    if at(old, &["immutable"]).and_then(Value::as_bool) != Some(true) {
        return;
    }
    if at(new, &["immutable"]).and_then(Value::as_bool) != Some(true) {
        errs.push(forbidden(&Path::new("immutable"), "field is immutable when `immutable` is set"));
    }
    for field in fields {
        let empty_as_none = |v: Option<&Value>| v.filter(|v| v.as_object().is_none_or(|m| !m.is_empty())).cloned();
        if empty_as_none(at(new, &[field])) != empty_as_none(at(old, &[field])) {
            errs.push(forbidden(&Path::new(field), "field is immutable when `immutable` is set"));
        }
    }
}

/// `ValidateSecretUpdate` beyond metadata and `ValidateSecret`.
pub(crate) fn secret_validate_update(new: &Value, old: &Value) -> Errs {
    let mut errs = Errs::new();
    immutable_str(&mut errs, s(new, &["type"]), s(old, &["type"]), &Path::new("type"));
    immutable_data(new, old, &["data"], &mut errs);
    errs
}

/// ConfigMaps' data maps serialize sorted.
pub(crate) fn config_map_defaults(object: &mut Value) {
    if let Some(obj) = object.as_object_mut() {
        sort_map(obj, "data");
        sort_map(obj, "binaryData");
    }
}

/// `ValidateConfigMap` beyond metadata.
pub(crate) fn config_map_validate(object: &Value) -> Errs {
    let mut errs = Errs::new();
    let mut total = 0;
    let binary = decoded_sizes(object, "binaryData").unwrap_or_default();
    for (k, v) in map_at(object, &["data"]).into_iter().flatten() {
        let dp = Path::new("data").key(k);
        for msg in config_map_key_errors(k) {
            errs.push(invalid(&dp, k, &msg));
        }
        if binary.iter().any(|(b, _)| b == k) {
            errs.push(invalid(&dp, k, "duplicate of key present in binaryData"));
        }
        total += v.as_str().map_or(0, str::len);
    }
    for (k, size) in &binary {
        for msg in config_map_key_errors(k) {
            errs.push(invalid(&Path::new("binaryData").key(k), k, &msg));
        }
        total += size;
    }
    if total > MAX_SECRET_SIZE {
        errs.push(too_long(&Path::empty_root(), MAX_SECRET_SIZE));
    }
    errs
}

/// `ValidateConfigMapUpdate` beyond metadata and `ValidateConfigMap`.
pub(crate) fn config_map_validate_update(new: &Value, old: &Value) -> Errs {
    let mut errs = Errs::new();
    immutable_data(new, old, &["data", "binaryData"], &mut errs);
    errs
}

// -------------------------------------------------------- ServiceAccount

/// `PrepareForCreate` / `PrepareForUpdate` (`cleanSecretReferences`): secret
/// references keep only their name.
pub(crate) fn service_account_prepare(object: &mut Value) {
    let Some(obj) = object.as_object_mut() else { return };
    for secret in each_obj_mut(obj, "secrets") {
        let name = secret.get("name").cloned();
        secret.clear();
        if let Some(name) = name {
            secret.insert("name".into(), name);
        }
    }
}

// ------------------------------------------------------------------ Node

/// `SetDefaults_NodeStatus` and the always-serialized zero fields of a Node
/// (`spec: {}`, `status.daemonEndpoints`, `status.nodeInfo`).
pub(crate) fn node_defaults(object: &mut Value) {
    let Some(obj) = object.as_object_mut() else { return };
    set_default(obj, "spec", json!({}));
    let Some(status) = child_obj(obj, "status") else { return };
    if status.get("allocatable").is_none_or(Value::is_null)
        && let Some(capacity) = status.get("capacity").filter(|c| c.is_object()).cloned()
    {
        status.insert("allocatable".into(), capacity);
    }
    for key in ["capacity", "allocatable"] {
        super::podspec::default_resource_list(status, key);
    }
    if let Some(endpoints) = child_obj(status, "daemonEndpoints")
        && let Some(kubelet) = child_obj(endpoints, "kubeletEndpoint")
    {
        set_default(kubelet, "Port", json!(0));
    }
    if let Some(info) = child_obj(status, "nodeInfo") {
        for key in [
            "machineID",
            "systemUUID",
            "bootID",
            "kernelVersion",
            "osImage",
            "containerRuntimeVersion",
            "kubeletVersion",
            "kubeProxyVersion",
            "operatingSystem",
            "architecture",
        ] {
            set_default(info, key, json!(""));
        }
    }
}

/// `PrepareForUpdate`: the status stays as stored.
pub(crate) fn keep_status(new: &mut Value, old: &Value) {
    let Some(obj) = new.as_object_mut() else { return };
    match at(old, &["status"]) {
        Some(status) => obj.insert("status".into(), status.clone()),
        None => obj.remove("status"),
    };
}

fn node_taints(object: &Value, errs: &mut Errs) {
    let path = Path::new("metadata.taints");
    let mut seen: Vec<(String, String)> = Vec::new();
    for (i, taint) in list_at(object, &["spec", "taints"]).iter().enumerate() {
        let ip = path.index(i);
        let key = s(taint, &["key"]);
        errs.extend(kubeplex_core::names::validate_label_name(key, ip.child("key").as_str()));
        let value = s(taint, &["value"]);
        let msgs = kubeplex_core::names::is_label_value(value);
        if !msgs.is_empty() {
            errs.push(invalid(&ip.child("value"), value, &msgs.join(";")));
        }
        let effect = s(taint, &["effect"]);
        match effect {
            "" => errs.push(required(&ip.child("effect"), "")),
            "NoSchedule" | "PreferNoSchedule" | "NoExecute" => {}
            other => {
                errs.push(not_supported(&ip.child("effect"), other, &["NoSchedule", "PreferNoSchedule", "NoExecute"]))
            }
        }
        let pair = (effect.to_owned(), key.to_owned());
        if seen.contains(&pair) {
            let mut err = super::field::duplicate_rendered(
                &ip,
                &super::field::render_ordered(&json!({
                    "Key": key, "Value": value, "Effect": effect, "TimeAdded": at(taint, &["timeAdded"]).cloned()
                })),
            );
            err.body.push_str(": taints must be unique by key and effect pair");
            errs.push(err);
            continue;
        }
        seen.push(pair);
    }
}

/// `ValidateNode` beyond metadata.
pub(crate) fn node_validate(object: &Value) -> Errs {
    let mut errs = Errs::new();
    node_taints(object, &mut errs);
    node_resources(object, &mut errs);
    let cidrs = list_at(object, &["spec", "podCIDRs"]);
    for (i, cidr) in cidrs.iter().enumerate() {
        let cidr = cidr.as_str().unwrap_or("");
        if !valid_cidr(cidr) {
            errs.push(invalid(
                &Path::new("spec.podCIDRs").index(i),
                cidr,
                "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)",
            ));
        }
    }
    errs
}

fn valid_cidr(cidr: &str) -> bool {
    let Some((ip, bits)) = cidr.split_once('/') else { return false };
    let Ok(ip) = ip.parse::<std::net::IpAddr>() else { return false };
    let max = if ip.is_ipv4() { 32 } else { 128 };
    bits.parse::<u8>().is_ok_and(|b| b <= max)
}

fn node_resources(object: &Value, errs: &mut Errs) {
    for field in ["capacity", "allocatable"] {
        for (k, v) in map_at(object, &["status", field]).into_iter().flatten() {
            if let Some(q) = v.as_str().and_then(|t| kubeplex_core::quantity::Quantity::parse(t).ok())
                && q.sign() == std::cmp::Ordering::Less
            {
                errs.push(invalid(
                    &Path::new("status").child(field).child(k),
                    &q.to_string(),
                    "must be greater than or equal to 0",
                ));
            }
        }
    }
}

/// `ValidateNodeUpdate` beyond metadata.
pub(crate) fn node_validate_update(new: &Value, old: &Value) -> Errs {
    let mut errs = Errs::new();
    node_resources(new, &mut errs);
    let mut addresses: Vec<&Value> = Vec::new();
    for (i, address) in list_at(new, &["status", "addresses"]).iter().enumerate() {
        if addresses.contains(&address) {
            errs.push(duplicate_rendered(
                &Path::new("status.addresses").index(i),
                &render_ordered(&json!({"Type": s(address, &["type"]), "Address": s(address, &["address"])})),
            ));
        }
        addresses.push(address);
    }
    let old_cidrs = list_at(old, &["spec", "podCIDRs"]);
    let new_cidrs = list_at(new, &["spec", "podCIDRs"]);
    if !old_cidrs.is_empty() {
        let msg = "node updates may not change podCIDR except from \"\" to valid";
        if old_cidrs.len() != new_cidrs.len() {
            errs.push(forbidden(&Path::new("spec.podCIDRs"), msg));
        } else {
            for (a, b) in old_cidrs.iter().zip(new_cidrs) {
                if a != b {
                    errs.push(forbidden(&Path::new("spec.podCIDRs"), msg));
                }
            }
        }
    }
    let old_provider = s(old, &["spec", "providerID"]);
    if !old_provider.is_empty() && old_provider != s(new, &["spec", "providerID"]) {
        errs.push(forbidden(
            &Path::new("spec.providerID"),
            "node updates may not change providerID except from \"\" to valid",
        ));
    }
    node_taints(new, &mut errs);
    if s(new, &["spec", "externalID"]) != s(old, &["spec", "externalID"]) {
        errs.push(forbidden(&Path::new("spec.externalID"), "may not be updated"));
    }
    errs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategy::field::msgs;

    #[test]
    fn service_defaults_as_upstream() {
        let mut svc =
            json!({"metadata": {"name": "web"}, "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}});
        service_defaults(&mut svc);
        service_prepare_create(&mut svc);
        assert_eq!(
            svc["spec"],
            json!({
                "selector": {"app": "web"},
                "ports": [{"port": 80, "protocol": "TCP", "targetPort": 80}],
                "sessionAffinity": "None",
                "type": "ClusterIP",
                "internalTrafficPolicy": "Cluster",
                "ipFamilyPolicy": "SingleStack",
                "ipFamilies": ["IPv4"]
            })
        );
        assert_eq!(svc["status"], json!({"loadBalancer": {}}));
        let mut np = json!({"spec": {"type": "LoadBalancer", "clusterIP": "10.0.0.9", "ports": [{"port": 80, "targetPort": "http"}]}});
        service_defaults(&mut np);
        service_prepare_create(&mut np);
        assert_eq!(np["spec"]["externalTrafficPolicy"], "Cluster");
        assert_eq!(np["spec"]["allocateLoadBalancerNodePorts"], true);
        assert_eq!(np["spec"]["clusterIPs"], json!(["10.0.0.9"]));
        assert_eq!(np["spec"]["ports"][0]["targetPort"], "http");
    }

    #[test]
    fn service_port_validation() {
        let spec = json!({"spec": {"type": "ClusterIP", "sessionAffinity": "None", "internalTrafficPolicy": "Cluster",
            "ports": [{"port": 70000, "protocol": "TCP", "targetPort": 80},
                      {"name": "b", "port": 80, "protocol": "TCP", "targetPort": 80},
                      {"name": "c", "port": 80, "protocol": "TCP", "targetPort": 80}]}});
        assert_eq!(
            msgs(&service_validate(&spec)),
            [
                "spec.ports[0].name: Required value",
                "spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive",
                r#"spec.ports[2]: Duplicate value: {"Name":"","Protocol":"TCP","AppProtocol":null,"Port":80,"TargetPort":0,"NodePort":0}"#,
            ]
        );
        let none =
            json!({"spec": {"type": "ClusterIP", "sessionAffinity": "None", "internalTrafficPolicy": "Cluster"}});
        assert_eq!(msgs(&service_validate(&none)), ["spec.ports: Required value"]);
    }

    #[test]
    fn service_cluster_ip_is_kept_and_immutable() {
        let old = json!({"spec": {"type": "ClusterIP", "clusterIP": "10.0.0.5", "clusterIPs": ["10.0.0.5"],
            "ports": [{"port": 80}]}});
        let mut new = json!({"spec": {"type": "ClusterIP", "ports": [{"port": 81}]}});
        service_prepare_update(&mut new, &old);
        assert_eq!(new["spec"]["clusterIP"], "10.0.0.5");
        assert_eq!(new["spec"]["clusterIPs"], json!(["10.0.0.5"]));
        let changed = json!({"spec": {"type": "ClusterIP", "clusterIP": "10.0.0.6", "clusterIPs": ["10.0.0.6"]}});
        assert_eq!(
            msgs(&service_validate_update(&changed, &old)),
            [r#"spec.clusterIPs[0]: Invalid value: ["10.0.0.6"]: may not change once set"#]
        );
    }

    #[test]
    fn secrets_and_config_maps() {
        let mut secret = json!({"stringData": {"b": "hello"}, "data": {"a": "eA=="}});
        secret_defaults(&mut secret);
        assert_eq!(secret, json!({"type": "Opaque", "data": {"a": "eA==", "b": "aGVsbG8="}}));
        let bad = json!({"data": {"bad key": "eA=="}});
        assert_eq!(
            msgs(&secret_validate(&bad)),
            [
                "data[bad key]: Invalid value: \"bad key\": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"
            ]
        );
        assert_eq!(
            secret_decode_error(&json!({"data": {"a": "!!!"}})).as_deref(),
            Some("illegal base64 data at input byte 0")
        );
        let big = json!({"data": {"a": "x".repeat(MAX_SECRET_SIZE + 1)}});
        assert_eq!(msgs(&config_map_validate(&big)), ["[]: Too long: may not be more than 1048576 bytes"]);
        let old = json!({"immutable": true, "data": {"a": "1"}});
        let new = json!({"immutable": true, "data": {"a": "2"}});
        assert_eq!(
            msgs(&config_map_validate_update(&new, &old)),
            ["data: Forbidden: field is immutable when `immutable` is set"]
        );
    }

    #[test]
    fn namespaces() {
        let mut ns = json!({"metadata": {"name": "demo"}, "spec": {"finalizers": ["example.com/x"]}});
        namespace_defaults(&mut ns);
        namespace_prepare_create(&mut ns);
        assert_eq!(ns["metadata"]["labels"], json!({"kubernetes.io/metadata.name": "demo"}));
        assert_eq!(ns["spec"]["finalizers"], json!(["example.com/x", "kubernetes"]));
        assert_eq!(ns["status"], json!({"phase": "Active"}));
        assert!(namespace_validate(&ns).is_empty());
    }

    #[test]
    fn nodes() {
        let mut node = json!({"metadata": {"name": "n1"}, "status": {"capacity": {"cpu": "4"}}});
        node_defaults(&mut node);
        assert_eq!(node["spec"], json!({}));
        assert_eq!(node["status"]["allocatable"], json!({"cpu": "4"}));
        assert_eq!(node["status"]["daemonEndpoints"], json!({"kubeletEndpoint": {"Port": 0}}));
        assert_eq!(node["status"]["nodeInfo"]["kubeletVersion"], "");
    }
}
