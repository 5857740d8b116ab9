//! networking.k8s.io/v1: NetworkPolicy, Ingress (with its status
//! subresource) and IngressClass — `pkg/apis/networking/v1` defaults,
//! `pkg/registry/networking/*/strategy.go` and
//! `pkg/apis/networking/validation`, with upstream's messages.

use kubeplex_core::names::{
    NameValidator, is_dns1123_subdomain, is_path_segment_name, name_is_dns_label, name_is_dns_subdomain, regex_error,
};
use serde_json::{Map, Value, json};

use super::cluster::{dns_subdomain, label_selector};
use super::field::{
    Errs, Path, at, each_obj_mut, forbidden, immutable_str, int_at, invalid, invalid_int, invalid_json, list_at,
    not_supported, obj_path, required, s, set_default, str_at, too_long,
};
use super::gojson::fill_zero_values;
use super::meta::{self, MetaRules};
use super::podspec::port_name_errors;

/// The kinds of this module.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NetKind {
    NetworkPolicy,
    Ingress,
    IngressClass,
}

/// The kind served at `group`/`kind`, if it is one of these.
pub(crate) fn kind_of(group: &str, kind: &str) -> Option<NetKind> {
    match (group, kind) {
        ("networking.k8s.io", "NetworkPolicy") => Some(NetKind::NetworkPolicy),
        ("networking.k8s.io", "Ingress") => Some(NetKind::Ingress),
        ("networking.k8s.io", "IngressClass") => Some(NetKind::IngressClass),
        _ => None,
    }
}

impl NetKind {
    pub(crate) fn name_validator(self) -> NameValidator {
        name_is_dns_subdomain
    }

    fn type_name(self) -> &'static str {
        match self {
            NetKind::NetworkPolicy => "io.k8s.api.networking.v1.NetworkPolicy",
            NetKind::Ingress => "io.k8s.api.networking.v1.Ingress",
            NetKind::IngressClass => "io.k8s.api.networking.v1.IngressClass",
        }
    }
}

// -------------------------------------------------------------- defaults

/// `SetDefaults_NetworkPolicy` (policy types), `SetDefaults_NetworkPolicyPort`
/// (TCP), `SetDefaults_IngressClass` (parameters scope `Cluster`).
pub(crate) fn defaults(kind: NetKind, object: &mut Value) {
    match kind {
        NetKind::NetworkPolicy => {
            if let Some(spec) = obj_path(object, &["spec"]) {
                network_policy_defaults(spec);
            }
        }
        NetKind::IngressClass => {
            if let Some(params) =
                object.get_mut("spec").and_then(|s| s.get_mut("parameters")).and_then(Value::as_object_mut)
            {
                set_default(params, "scope", json!("Cluster"));
            }
        }
        NetKind::Ingress => {}
    }
    fill_zero_values(object, kind.type_name());
}

fn network_policy_defaults(spec: &mut Map<String, Value>) {
    let has_egress = spec.get("egress").and_then(Value::as_array).is_some_and(|e| !e.is_empty());
    if spec.get("policyTypes").and_then(Value::as_array).is_none_or(Vec::is_empty) {
        let types = if has_egress { json!(["Ingress", "Egress"]) } else { json!(["Ingress"]) };
        spec.insert("policyTypes".into(), types);
    }
    for direction in ["ingress", "egress"] {
        for rule in each_obj_mut(spec, direction) {
            for port in each_obj_mut(rule, "ports") {
                set_default(port, "protocol", json!("TCP"));
            }
        }
    }
}

/// `PrepareForCreate`: generation 1, an Ingress without status.
pub(crate) fn prepare_for_create(kind: NetKind, object: &mut Value) {
    if let Some(meta) = obj_path(object, &["metadata"]) {
        meta.insert("generation".into(), json!(1));
    }
    if kind == NetKind::Ingress
        && let Some(obj) = object.as_object_mut()
    {
        obj.insert("status".into(), json!({"loadBalancer": {}}));
    }
}

// ------------------------------------------------------------ validation

/// `ValidateNetworkPolicyPort`.
fn network_policy_port(port: &Value, path: &Path) -> Errs {
    let mut errs = Errs::new();
    if let Some(protocol) = str_at(port, &["protocol"])
        && !matches!(protocol, "TCP" | "UDP" | "SCTP")
    {
        errs.push(not_supported(&path.child("protocol"), protocol, &["TCP", "UDP", "SCTP"]));
    }
    let end_port = int_at(port, &["endPort"]);
    match at(port, &["port"]) {
        Some(Value::Number(n)) => {
            let p = n.as_i64().unwrap_or(0);
            if !(1..=65535).contains(&p) {
                errs.push(invalid_int(&path.child("port"), p, super::podspec::PORT_RANGE));
            }
            if let Some(end) = end_port {
                if end < p {
                    errs.push(invalid_int(&path.child("endPort"), end, "must be greater than or equal to `port`"));
                }
                if !(1..=65535).contains(&end) {
                    errs.push(invalid_int(&path.child("endPort"), end, super::podspec::PORT_RANGE));
                }
            }
        }
        Some(Value::String(name)) => {
            if let Some(end) = end_port {
                errs.push(invalid_int(&path.child("endPort"), end, "may not be specified when `port` is non-numeric"));
            }
            for msg in port_name_errors(name) {
                errs.push(invalid(&path.child("port"), name, &msg));
            }
        }
        _ => {
            if let Some(end) = end_port {
                errs.push(invalid_int(
                    &path.child("endPort"),
                    end,
                    "may not be specified when `port` is not specified",
                ));
            }
        }
    }
    errs
}

/// A CIDR as `IsValidCIDRForLegacyField` (strict) parses it: the network and
/// prefix length.
fn parse_cidr(value: &str) -> Result<(std::net::IpAddr, u8), &'static str> {
    const BAD: &str = "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)";
    let (ip, len) = value.split_once('/').ok_or(BAD)?;
    let ip: std::net::IpAddr = ip.parse().map_err(|_| BAD)?;
    if len.is_empty() || !len.bytes().all(|b| b.is_ascii_digit()) {
        return Err(BAD);
    }
    if len.len() > 1 && len.starts_with('0') {
        return Err("must not have leading 0s in IP or prefix length");
    }
    let len: u8 = len.parse().map_err(|_| BAD)?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    if len > max {
        return Err(BAD);
    }
    if let std::net::IpAddr::V6(v6) = ip
        && v6.to_ipv4_mapped().is_some()
    {
        return Err("must not have an IPv4-mapped IPv6 address");
    }
    if masked(ip, len) != ip {
        return Err("must not have bits set beyond the prefix length");
    }
    Ok((ip, len))
}

fn masked(ip: std::net::IpAddr, len: u8) -> std::net::IpAddr {
    match ip {
        std::net::IpAddr::V4(v4) => {
            let bits = u32::from(v4);
            let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
            std::net::IpAddr::V4((bits & mask).into())
        }
        std::net::IpAddr::V6(v6) => {
            let bits = u128::from(v6);
            let mask = if len == 0 { 0 } else { u128::MAX << (128 - len) };
            std::net::IpAddr::V6((bits & mask).into())
        }
    }
}

/// `ValidateIPBlock`.
fn ip_block(block: &Value, path: &Path) -> Errs {
    let cidr = s(block, &["cidr"]);
    if cidr.is_empty() {
        return vec![required(&path.child("cidr"), "")];
    }
    let (net, len) = match parse_cidr(cidr) {
        Ok(parsed) => parsed,
        Err(why) => return vec![invalid(&path.child("cidr"), cidr, why)],
    };
    let mut errs = Errs::new();
    for (i, except) in list_at(block, &["except"]).iter().enumerate() {
        let except = except.as_str().unwrap_or("");
        let ep = path.child("except").index(i);
        match parse_cidr(except) {
            Err(why) => errs.push(invalid(&ep, except, why)),
            Ok((ex_net, ex_len)) => {
                let contained = net.is_ipv4() == ex_net.is_ipv4() && masked(ex_net, len) == net;
                if !contained || len >= ex_len {
                    errs.push(invalid(&ep, except, "must be a strict subset of `cidr`"));
                }
            }
        }
    }
    errs
}

/// `ValidateNetworkPolicyPeer`.
fn network_policy_peer(peer: &Value, path: &Path) -> Errs {
    let mut errs = Errs::new();
    let mut peers = 0;
    for key in ["podSelector", "namespaceSelector"] {
        if let Some(selector) = at(peer, &[key]) {
            peers += 1;
            errs.extend(label_selector(Some(selector), &path.child(key)));
        }
    }
    let block = at(peer, &["ipBlock"]);
    if let Some(block) = block {
        peers += 1;
        errs.extend(ip_block(block, &path.child("ipBlock")));
    }
    if peers == 0 {
        errs.push(required(path, "must specify a peer"));
    } else if peers > 1 && block.is_some() {
        errs.push(forbidden(path, "may not specify both ipBlock and another peer"));
    }
    errs
}

/// `ValidateNetworkPolicySpec`.
fn network_policy_validate(object: &Value) -> Errs {
    let sp = Path::new("spec");
    let empty = json!({});
    let spec = at(object, &["spec"]).unwrap_or(&empty);
    let mut errs = label_selector(Some(at(spec, &["podSelector"]).unwrap_or(&empty)), &sp.child("podSelector"));
    for (direction, peers_key) in [("ingress", "from"), ("egress", "to")] {
        for (i, rule) in list_at(spec, &[direction]).iter().enumerate() {
            let rp = sp.child(direction).index(i);
            for (j, port) in list_at(rule, &["ports"]).iter().enumerate() {
                errs.extend(network_policy_port(port, &rp.child("ports").index(j)));
            }
            for (j, peer) in list_at(rule, &[peers_key]).iter().enumerate() {
                errs.extend(network_policy_peer(peer, &rp.child(peers_key).index(j)));
            }
        }
    }
    let types = list_at(spec, &["policyTypes"]);
    if types.len() > 2 {
        errs.push(invalid_json(&sp.child("policyTypes"), &json!(types), "may not specify more than two policyTypes"));
        return errs;
    }
    for (i, t) in types.iter().enumerate() {
        let t = t.as_str().unwrap_or("");
        if t != "Ingress" && t != "Egress" {
            errs.push(not_supported(&sp.child("policyTypes").index(i), t, &["Ingress", "Egress"]));
        }
    }
    errs
}

/// `IsWildcardDNS1123Subdomain`.
fn wildcard_dns1123_subdomain(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > 253 {
        errs.push("must be no more than 253 characters".to_owned());
    }
    // The format alone (the length is reported above).
    let valid = value
        .strip_prefix("*.")
        .is_some_and(|rest| is_dns1123_subdomain(rest).iter().all(|m| m.starts_with("must be no more than")));
    if !valid {
        errs.push(regex_error(
            "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character",
            "\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*",
            &["*.example.com"],
        ));
    }
    errs
}

/// A host of an Ingress rule or TLS entry: wildcard or plain DNS subdomain.
fn host_errors(host: &str, path: &Path) -> Errs {
    let msgs = if host.contains('*') { wildcard_dns1123_subdomain(host) } else { is_dns1123_subdomain(host) };
    msgs.iter().map(|msg| invalid(path, host, msg)).collect()
}

/// `validateIngressTypedLocalObjectReference` / the parameters reference.
fn typed_reference(reference: &Value, path: &Path) -> Errs {
    let mut errs = Errs::new();
    if let Some(group) = str_at(reference, &["apiGroup"]) {
        errs.extend(dns_subdomain(group, &path.child("apiGroup")));
    }
    for key in ["kind", "name"] {
        let value = s(reference, &[key]);
        if value.is_empty() {
            errs.push(required(&path.child(key), ""));
        } else {
            for msg in is_path_segment_name(value) {
                errs.push(invalid(&path.child(key), value, &msg));
            }
        }
    }
    errs
}

/// `validateIngressBackend`.
fn ingress_backend(backend: &Value, path: &Path) -> Errs {
    let resource = at(backend, &["resource"]);
    let service = at(backend, &["service"]);
    let mut errs = Errs::new();
    match (resource, service) {
        (Some(_), Some(_)) => errs.push(invalid(path, "", "cannot set both resource and service backends")),
        (Some(resource), None) => errs.extend(typed_reference(resource, &path.child("resource"))),
        (None, Some(service)) => {
            let name = s(service, &["name"]);
            let np = path.child("service").child("name");
            if name.is_empty() {
                errs.push(required(&np, ""));
            } else {
                for msg in name_is_dns_label(name, false) {
                    errs.push(invalid(&np, name, &msg));
                }
            }
            let port_name = s(service, &["port", "name"]);
            let port_number = int_at(service, &["port", "number"]).unwrap_or(0);
            let pp = path.child("service").child("port");
            match (port_name.is_empty(), port_number != 0) {
                (false, true) => errs.push(invalid(path, "", "cannot set both port name & port number")),
                (false, false) => {
                    for msg in port_name_errors(port_name) {
                        errs.push(invalid(&pp.child("name"), port_name, &msg));
                    }
                }
                (true, true) => {
                    if !(1..=65535).contains(&port_number) {
                        errs.push(invalid_int(&pp.child("number"), port_number, super::podspec::PORT_RANGE));
                    }
                }
                (true, false) => errs.push(required(path, "port name or number is required")),
            }
        }
        (None, None) => errs.push(invalid(path, "", "resource or service backend is required")),
    }
    errs
}

/// `validateHTTPIngressPath`.
fn ingress_path(http_path: &Value, path: &Path) -> Errs {
    let Some(path_type) = str_at(http_path, &["pathType"]) else {
        return vec![required(&path.child("pathType"), "pathType must be specified")];
    };
    let value = s(http_path, &["path"]);
    let pp = path.child("path");
    let mut errs = Errs::new();
    match path_type {
        "Exact" | "Prefix" => {
            if !value.starts_with('/') {
                errs.push(invalid(&pp, value, "must be an absolute path"));
            }
            if !value.is_empty() {
                for seq in ["//", "/./", "/../", "%2f", "%2F"] {
                    if value.contains(seq) {
                        errs.push(invalid(&pp, value, &format!("must not contain '{seq}'")));
                    }
                }
                for suffix in ["/..", "/."] {
                    if value.ends_with(suffix) {
                        errs.push(invalid(&pp, value, &format!("cannot end with '{suffix}'")));
                    }
                }
            }
        }
        "ImplementationSpecific" => {
            if !value.is_empty() && !value.starts_with('/') {
                errs.push(invalid(&pp, value, "must be an absolute path"));
            }
        }
        other => {
            errs.push(not_supported(&path.child("pathType"), other, &["Exact", "ImplementationSpecific", "Prefix"]))
        }
    }
    errs.extend(ingress_backend(at(http_path, &["backend"]).unwrap_or(&json!({})), &path.child("backend")));
    errs
}

/// `ValidateIngressSpec`.
fn ingress_spec(object: &Value) -> Errs {
    let sp = Path::new("spec");
    let empty = json!({});
    let spec = at(object, &["spec"]).unwrap_or(&empty);
    let rules = list_at(spec, &["rules"]);
    let mut errs = Errs::new();
    if rules.is_empty() && at(spec, &["defaultBackend"]).is_none() {
        let value = at(spec, &["rules"]).cloned().unwrap_or(Value::Null);
        errs.push(invalid_json(&sp, &value, "either `defaultBackend` or `rules` must be specified"));
    }
    if let Some(backend) = at(spec, &["defaultBackend"]) {
        errs.extend(ingress_backend(backend, &sp.child("defaultBackend")));
    }
    for (i, rule) in rules.iter().enumerate() {
        let rp = sp.child("rules").index(i);
        let host = s(rule, &["host"]);
        if !host.is_empty() {
            if host.parse::<std::net::IpAddr>().is_ok() {
                errs.push(invalid(&rp.child("host"), host, "must be a DNS name, not an IP address"));
            }
            errs.extend(host_errors(host, &rp.child("host")));
        }
        if let Some(http) = at(rule, &["http"]) {
            let hp = rp.child("http");
            let paths = list_at(http, &["paths"]);
            if paths.is_empty() {
                errs.push(required(&hp.child("paths"), ""));
            }
            for (j, p) in paths.iter().enumerate() {
                errs.extend(ingress_path(p, &hp.child("paths").index(j)));
            }
        }
    }
    for (i, tls) in list_at(spec, &["tls"]).iter().enumerate() {
        let tp = sp.child("tls").index(i);
        for (j, host) in list_at(tls, &["hosts"]).iter().enumerate() {
            errs.extend(host_errors(host.as_str().unwrap_or(""), &tp.child("hosts").index(j)));
        }
        let secret = s(tls, &["secretName"]);
        if !secret.is_empty() {
            for msg in name_is_dns_subdomain(secret, false) {
                errs.push(invalid(&tp.child("secretName"), secret, &msg));
            }
        }
    }
    if let Some(class) = str_at(spec, &["ingressClassName"]) {
        for msg in name_is_dns_subdomain(class, false) {
            errs.push(invalid(&sp.child("ingressClassName"), class, &msg));
        }
    }
    errs
}

/// `ValidateIngressCreate` beyond metadata: the spec, and the legacy class
/// annotation agreeing with `ingressClassName`.
fn ingress_validate_create(object: &Value) -> Errs {
    let mut errs = ingress_spec(object);
    if let Some(annotation) = str_at(object, &["metadata", "annotations", "kubernetes.io/ingress.class"])
        && let Some(class) = str_at(object, &["spec", "ingressClassName"])
        && annotation != class
    {
        errs.push(invalid(
            &Path::new("annotations").child("kubernetes.io/ingress.class"),
            annotation,
            "must match `ingressClassName` when both are specified",
        ));
    }
    errs
}

/// `ValidateIngressLoadBalancerStatus`.
fn ingress_status(new: &Value, old: &Value) -> Errs {
    let lp = Path::new("status.loadBalancer");
    let old_ips: Vec<&str> = list_at(old, &["status", "loadBalancer", "ingress"])
        .iter()
        .map(|i| s(i, &["ip"]))
        .filter(|i| !i.is_empty())
        .collect();
    let mut errs = Errs::new();
    for (i, ingress) in list_at(new, &["status", "loadBalancer", "ingress"]).iter().enumerate() {
        let ip_path = lp.child("ingress").index(i);
        let ip = s(ingress, &["ip"]);
        if !ip.is_empty() && !old_ips.contains(&ip) {
            errs.extend(super::core::ip_errors(ip, &ip_path.child("ip")));
        }
        let hostname = s(ingress, &["hostname"]);
        if !hostname.is_empty() {
            for msg in is_dns1123_subdomain(hostname) {
                errs.push(invalid(&ip_path.child("hostname"), hostname, &msg));
            }
            if hostname.parse::<std::net::IpAddr>().is_ok() {
                errs.push(invalid(&ip_path.child("hostname"), hostname, "must be a DNS name, not an IP address"));
            }
        }
    }
    errs
}

/// `validateIngressClassSpec`.
fn ingress_class_validate(object: &Value) -> Errs {
    let sp = Path::new("spec");
    let cp = sp.child("controller");
    let controller = s(object, &["spec", "controller"]);
    let mut errs = Errs::new();
    if controller.is_empty() {
        errs.push(required(&cp, ""));
    } else {
        if controller.len() > 250 {
            errs.push(too_long(&cp, 250));
        }
        errs.extend(domain_prefixed_path(controller, &cp));
    }
    let Some(params) = at(object, &["spec", "parameters"]) else { return errs };
    let pp = sp.child("parameters");
    errs.extend(typed_reference(params, &pp));
    match str_at(params, &["scope"]) {
        None => errs.push(required(&pp.child("scope"), "")),
        Some(scope @ ("Cluster" | "Namespace")) => {
            let namespace = str_at(params, &["namespace"]);
            if scope == "Namespace" {
                match namespace {
                    None => errs.push(required(&pp.child("namespace"), "`parameters.scope` is set to 'Namespace'")),
                    Some(ns) => {
                        for msg in name_is_dns_label(ns, false) {
                            errs.push(invalid(&pp.child("namespace"), ns, &msg));
                        }
                    }
                }
            } else if namespace.is_some() {
                errs.push(forbidden(&pp.child("namespace"), "`parameters.scope` is set to 'Cluster'"));
            }
        }
        Some(other) => errs.push(not_supported(&pp.child("scope"), other, &["Cluster", "Namespace"])),
    }
    errs
}

/// `IsDomainPrefixedPath`.
fn domain_prefixed_path(value: &str, path: &Path) -> Errs {
    let Some((host, rest)) = value.split_once('/').filter(|(h, r)| !h.is_empty() && !r.is_empty()) else {
        return vec![invalid(path, value, "must be a domain-prefixed path (such as \"acme.io/foo\")")];
    };
    let mut errs: Errs = is_dns1123_subdomain(host).iter().map(|msg| invalid(path, host, msg)).collect();
    let http_path_char = |c: char| c.is_ascii_alphanumeric() || "/-._~%!$&'()*+,;=:".contains(c);
    if !rest.chars().all(http_path_char) {
        errs.push(invalid(path, rest, &regex_error("Invalid path", "[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+", &[])));
    }
    errs
}

/// Validation of a new object beyond metadata.
pub(crate) fn validate_create(kind: NetKind, object: &Value) -> Errs {
    match kind {
        NetKind::NetworkPolicy => network_policy_validate(object),
        NetKind::Ingress => ingress_validate_create(object),
        NetKind::IngressClass => ingress_class_validate(object),
    }
}

/// Validation of an update, metadata included, in upstream's order.
pub(crate) fn validate_update(kind: NetKind, new: &Value, old: &Value, rules: MetaRules) -> Errs {
    let update_meta = meta::validate_update(new, old, rules);
    match kind {
        // The strategy validates the object, then the update (which
        // validates the spec again).
        NetKind::NetworkPolicy => {
            [meta::validate_create(new, rules), network_policy_validate(new), update_meta, network_policy_validate(new)]
                .concat()
        }
        NetKind::Ingress => [update_meta, meta::validate_create(new, rules), ingress_spec(new)].concat(),
        NetKind::IngressClass => {
            let mut controller = Errs::new();
            immutable_str(
                &mut controller,
                s(new, &["spec", "controller"]),
                s(old, &["spec", "controller"]),
                &Path::new("spec.controller"),
            );
            [update_meta, controller, meta::validate_create(new, rules), ingress_class_validate(new)].concat()
        }
    }
}

/// Validation of a `/status` write.
pub(crate) fn validate_status_update(kind: NetKind, new: &Value, old: &Value, rules: MetaRules) -> Errs {
    match kind {
        NetKind::Ingress => [meta::validate_update(new, old, rules), ingress_status(new, old)].concat(),
        _ => Errs::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategy::field::msgs;

    #[test]
    fn network_policy_defaults_and_rules() {
        let mut np = json!({"spec": {"egress": [{"ports": [{"port": 53}]}]}});
        defaults(NetKind::NetworkPolicy, &mut np);
        assert_eq!(np["spec"]["policyTypes"], json!(["Ingress", "Egress"]));
        assert_eq!(np["spec"]["podSelector"], json!({}));
        assert_eq!(np["spec"]["egress"][0]["ports"][0]["protocol"], "TCP");
        assert!(network_policy_validate(&np).is_empty());
        let bad = json!({"spec": {"podSelector": {}, "policyTypes": ["Sideways"], "ingress": [{
            "ports": [{"port": "http", "endPort": 90}, {"port": 100, "endPort": 90}],
            "from": [{}, {"ipBlock": {"cidr": "10.0.0.0/8", "except": ["11.0.0.0/16", "10.1.0.1/16"]}, "podSelector": {}}]
        }]}});
        assert_eq!(
            msgs(&network_policy_validate(&bad)),
            [
                "spec.ingress[0].ports[0].endPort: Invalid value: 90: may not be specified when `port` is non-numeric",
                "spec.ingress[0].ports[1].endPort: Invalid value: 90: must be greater than or equal to `port`",
                "spec.ingress[0].from[0]: Required value: must specify a peer",
                "spec.ingress[0].from[1].ipBlock.except[0]: Invalid value: \"11.0.0.0/16\": must be a strict subset of `cidr`",
                "spec.ingress[0].from[1].ipBlock.except[1]: Invalid value: \"10.1.0.1/16\": must not have bits set beyond the prefix length",
                "spec.ingress[0].from[1]: Forbidden: may not specify both ipBlock and another peer",
                "spec.policyTypes[0]: Unsupported value: \"Sideways\": supported values: \"Ingress\", \"Egress\"",
            ]
        );
    }

    #[test]
    fn ingress_rules() {
        let mut ing = json!({"spec": {"rules": [{"host": "web.example.com", "http": {"paths": [
            {"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "web", "port": {"number": 80}}}}]}}]}});
        defaults(NetKind::Ingress, &mut ing);
        prepare_for_create(NetKind::Ingress, &mut ing);
        assert_eq!(ing["status"], json!({"loadBalancer": {}}));
        assert!(ingress_validate_create(&ing).is_empty());
        let bad = json!({"metadata": {"annotations": {"kubernetes.io/ingress.class": "a"}},
            "spec": {"ingressClassName": "b", "rules": [{"host": "1.2.3.4", "http": {"paths": [
                {"path": "x", "pathType": "Exact", "backend": {"service": {"name": "web"}}}, {"path": "/"}]}}]}});
        assert_eq!(
            msgs(&ingress_validate_create(&bad)),
            [
                "spec.rules[0].host: Invalid value: \"1.2.3.4\": must be a DNS name, not an IP address",
                "spec.rules[0].http.paths[0].path: Invalid value: \"x\": must be an absolute path",
                "spec.rules[0].http.paths[0].backend: Required value: port name or number is required",
                "spec.rules[0].http.paths[1].pathType: Required value: pathType must be specified",
                "annotations.kubernetes.io/ingress.class: Invalid value: \"a\": must match `ingressClassName` when both are specified",
            ]
        );
        let empty = json!({"spec": {}});
        assert_eq!(
            msgs(&ingress_validate_create(&empty)),
            ["spec: Invalid value: null: either `defaultBackend` or `rules` must be specified"]
        );
    }

    #[test]
    fn ingress_classes() {
        let mut ic =
            json!({"spec": {"controller": "example.com/ingress", "parameters": {"kind": "Params", "name": "p"}}});
        defaults(NetKind::IngressClass, &mut ic);
        assert_eq!(ic["spec"]["parameters"]["scope"], "Cluster");
        assert!(ingress_class_validate(&ic).is_empty());
        let bad =
            json!({"spec": {"controller": "nginx", "parameters": {"kind": "P", "name": "p", "scope": "Namespace"}}});
        assert_eq!(
            msgs(&ingress_class_validate(&bad)),
            [
                "spec.controller: Invalid value: \"nginx\": must be a domain-prefixed path (such as \"acme.io/foo\")",
                "spec.parameters.namespace: Required value: `parameters.scope` is set to 'Namespace'",
            ]
        );
    }
}
