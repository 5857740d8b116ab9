//! Leases (coordination.k8s.io/v1), EndpointSlices (discovery.k8s.io/v1),
//! Events (core/v1 and events.k8s.io/v1: one storage, two representations)
//! and kubeplex's LogicalClusters.

use serde_json::{Map, Value, json};

use super::core::non_special_ip;
use super::field::{
    Errs, Path, at, duplicate, each_obj_mut, forbidden, immutable, immutable_str, int_at, invalid, invalid_int,
    invalid_json, list_at, not_supported, obj_path, required, s, set_default, too_many,
};
use super::podspec::{dns_label, protocol};

// ----------------------------------------------------------------- Lease

/// A Lease's `spec` is always serialized (`{}` when empty).
pub(crate) fn lease_defaults(object: &mut Value) {
    obj_path(object, &["spec"]);
}

/// `ValidateLeaseSpec`.
pub(crate) fn lease_validate(object: &Value) -> Errs {
    let sp = Path::new("spec");
    let mut errs = Errs::new();
    if let Some(d) = int_at(object, &["spec", "leaseDurationSeconds"])
        && d <= 0
    {
        errs.push(invalid_int(&sp.child("leaseDurationSeconds"), d, "must be greater than 0"));
    }
    if let Some(t) = int_at(object, &["spec", "leaseTransitions"])
        && t < 0
    {
        errs.push(invalid_int(&sp.child("leaseTransitions"), t, "must be greater than or equal to 0"));
    }
    if let Some(strategy) = at(object, &["spec", "strategy"]).and_then(Value::as_str)
        && !strategy.contains('/')
        && strategy != "OldestEmulationVersion"
    {
        errs.push(not_supported(&sp.child("strategy"), strategy, &["OldestEmulationVersion"]));
    }
    let preferred = s(object, &["spec", "preferredHolder"]);
    if !preferred.is_empty() && s(object, &["spec", "strategy"]).is_empty() {
        errs.push(forbidden(&sp.child("preferredHolder"), "may only be specified if `strategy` is defined"));
    }
    errs
}

// --------------------------------------------------------- EndpointSlice

/// `SetDefaults_EndpointPort` and the always-serialized fields (`endpoints`,
/// `ports` and each endpoint's `addresses` are `null` when absent, its
/// `conditions` `{}`).
pub(crate) fn endpoint_slice_defaults(object: &mut Value) {
    let Some(obj) = object.as_object_mut() else { return };
    set_default(obj, "endpoints", Value::Null);
    set_default(obj, "ports", Value::Null);
    for endpoint in each_obj_mut(obj, "endpoints") {
        set_default(endpoint, "addresses", Value::Null);
        set_default(endpoint, "conditions", json!({}));
    }
    for port in each_obj_mut(obj, "ports") {
        set_default(port, "name", json!(""));
        set_default(port, "protocol", json!("TCP"));
    }
}

/// EndpointSlices have no spec: `generation` starts at 1 and moves with any
/// change outside the metadata.
pub(crate) fn endpoint_slice_generation(new: &mut Value, old: Option<&Value>) {
    let generation = match old {
        None => 1,
        Some(old) => {
            let strip = |v: &Value| -> Value {
                let mut v = v.clone();
                if let Some(m) = v.as_object_mut() {
                    m.remove("metadata");
                }
                v
            };
            let old_gen = int_at(old, &["metadata", "generation"]).unwrap_or(0);
            if strip(new) == strip(old) { old_gen } else { old_gen + 1 }
        }
    };
    if let Some(meta) = obj_path(new, &["metadata"]) {
        meta.insert("generation".into(), json!(generation));
    }
}

/// `ValidateEndpointSlice` beyond metadata.
pub(crate) fn endpoint_slice_validate(object: &Value) -> Errs {
    let mut errs = Errs::new();
    let address_type = s(object, &["addressType"]);
    match address_type {
        "" => errs.push(required(&Path::new("addressType"), "")),
        "IPv4" | "IPv6" | "FQDN" => {}
        other => errs.push(not_supported(&Path::new("addressType"), other, &["FQDN", "IPv4", "IPv6"])),
    }
    let endpoints = list_at(object, &["endpoints"]);
    let ep = Path::new("endpoints");
    if endpoints.len() > 1000 {
        errs.push(too_many(&ep, endpoints.len(), 1000));
    } else {
        for (i, endpoint) in endpoints.iter().enumerate() {
            let ip = ep.index(i);
            let ap = ip.child("addresses");
            let addresses = list_at(endpoint, &["addresses"]);
            if addresses.is_empty() {
                errs.push(required(&ap, "must contain at least 1 address"));
            } else if addresses.len() > 100 {
                errs.push(too_many(&ap, addresses.len(), 100));
            }
            for (j, address) in addresses.iter().enumerate() {
                let address = address.as_str().unwrap_or("");
                let path = ap.index(j);
                match address_type {
                    "IPv4" => match address.parse::<std::net::Ipv4Addr>() {
                        Ok(_) => errs.extend(non_special_ip(address, &path)),
                        Err(_) => errs.push(invalid(&path, address, "must be a valid IPv4 address")),
                    },
                    "IPv6" => match address.parse::<std::net::Ipv6Addr>() {
                        Ok(_) => errs.extend(non_special_ip(address, &path)),
                        Err(_) => errs.push(invalid(&path, address, "must be a valid IPv6 address")),
                    },
                    "FQDN" => {
                        let labels: Vec<&str> = address.split('.').collect();
                        if labels.len() < 2 {
                            errs.push(invalid(
                                &path,
                                address,
                                "should be a domain with at least two segments separated by dots",
                            ));
                        }
                        for msg in kubeplex_core::names::is_dns1123_subdomain(address) {
                            errs.push(invalid(&path, address, &msg));
                        }
                    }
                    _ => {}
                }
            }
            if let Some(node) = at(endpoint, &["nodeName"]).and_then(Value::as_str) {
                for msg in kubeplex_core::names::name_is_dns_subdomain(node, false) {
                    errs.push(invalid(&ip.child("nodeName"), node, &msg));
                }
            }
            let topology = super::field::string_map(endpoint, &["deprecatedTopology"]);
            let tp = ip.child("deprecatedTopology");
            if topology.len() > 16 {
                errs.push(too_many(&tp, topology.len(), 16));
            }
            errs.extend(kubeplex_core::names::validate_labels(topology, tp.as_str()));
            if let Some(hostname) = at(endpoint, &["hostname"]).and_then(Value::as_str) {
                dns_label(hostname, &ip.child("hostname"), &mut errs);
            }
        }
    }
    let ports = list_at(object, &["ports"]);
    let pp = Path::new("ports");
    if ports.len() > 20000 {
        errs.push(too_many(&pp, ports.len(), 20000));
        return errs;
    }
    let mut names = std::collections::BTreeSet::new();
    for (i, port) in ports.iter().enumerate() {
        let ip = pp.index(i);
        let name = s(port, &["name"]);
        if !name.is_empty() {
            dns_label(name, &ip.child("name"), &mut errs);
        }
        if !names.insert(name) {
            errs.push(duplicate(&ip.child("name"), name));
        }
        protocol(port, &ip.child("protocol"), &mut errs);
        if let Some(app) = at(port, &["appProtocol"]).and_then(Value::as_str) {
            for msg in kubeplex_core::names::is_qualified_name(app) {
                errs.push(invalid(&ip.child("appProtocol"), app, &msg));
            }
        }
    }
    errs
}

/// `ValidateEndpointSliceUpdate` beyond `ValidateEndpointSlice`.
pub(crate) fn endpoint_slice_validate_update(new: &Value, old: &Value) -> Errs {
    let mut errs = Errs::new();
    immutable_str(&mut errs, s(new, &["addressType"]), s(old, &["addressType"]), &Path::new("addressType"));
    errs
}

// ---------------------------------------------------------------- Events

/// Which representation an Event is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EventVersion {
    /// core/v1
    Core,
    /// events.k8s.io/v1
    Events,
}

/// How events.k8s.io/v1 fields map onto core/v1 fields (the other fields keep
/// their names).
const EVENT_FIELDS: &[(&str, &str)] = &[
    ("regarding", "involvedObject"),
    ("note", "message"),
    ("reportingController", "reportingComponent"),
    ("deprecatedSource", "source"),
    ("deprecatedFirstTimestamp", "firstTimestamp"),
    ("deprecatedLastTimestamp", "lastTimestamp"),
    ("deprecatedCount", "count"),
];

fn rename(object: &Value, from_events: bool, api_version: &str) -> Value {
    let Some(map) = object.as_object() else { return object.clone() };
    let mut out = Map::new();
    for (k, v) in map {
        let key = EVENT_FIELDS
            .iter()
            .find(|(e, c)| if from_events { e == k } else { c == k })
            .map(|(e, c)| if from_events { *c } else { *e })
            .unwrap_or(k.as_str());
        out.insert(key.to_owned(), v.clone());
    }
    out.insert("apiVersion".into(), json!(api_version));
    out.insert("kind".into(), json!("Event"));
    Value::Object(out)
}

/// An events.k8s.io/v1 Event in its core/v1 form (the storage form), as the
/// conversion through the internal type produces it.
pub fn core_event_from_events_v1(object: &Value) -> Value {
    let mut core = rename(object, true, "v1");
    event_core_defaults(&mut core);
    core
}

/// A core/v1 Event in its events.k8s.io/v1 form.
pub fn events_v1_from_core_event(object: &Value) -> Value {
    let mut event = rename(object, false, "events.k8s.io/v1");
    if let Some(m) = event.as_object_mut() {
        for key in ["reportingController", "reportingInstance", "action", "reason", "note", "type"] {
            if m.get(key).is_some_and(|v| v.as_str() == Some("")) {
                m.remove(key);
            }
        }
        if m.get("deprecatedCount").and_then(Value::as_i64) == Some(0) {
            m.remove("deprecatedCount");
        }
    }
    event_events_defaults(&mut event);
    event
}

/// The always-serialized fields of a core/v1 Event.
pub(crate) fn event_core_defaults(object: &mut Value) {
    let Some(obj) = object.as_object_mut() else { return };
    set_default(obj, "involvedObject", json!({}));
    set_default(obj, "source", json!({}));
    set_default(obj, "firstTimestamp", Value::Null);
    set_default(obj, "lastTimestamp", Value::Null);
    set_default(obj, "eventTime", Value::Null);
    set_default(obj, "reportingComponent", json!(""));
    set_default(obj, "reportingInstance", json!(""));
}

/// The always-serialized fields of an events.k8s.io/v1 Event.
pub(crate) fn event_events_defaults(object: &mut Value) {
    let Some(obj) = object.as_object_mut() else { return };
    set_default(obj, "eventTime", Value::Null);
    set_default(obj, "regarding", json!({}));
    set_default(obj, "deprecatedSource", json!({}));
    set_default(obj, "deprecatedFirstTimestamp", Value::Null);
    set_default(obj, "deprecatedLastTimestamp", Value::Null);
}

/// An Event in its internal (core field) form, whichever version it came in.
fn internal(object: &Value, version: EventVersion) -> Value {
    match version {
        EventVersion::Core => object.clone(),
        EventVersion::Events => rename(object, true, "v1"),
    }
}

/// `legacyValidateEvent`, with field paths named as the request version names
/// them where upstream does so.
fn legacy_validate(event: &Value, version: EventVersion) -> Errs {
    let mut errs = Errs::new();
    let reporting_field = if version == EventVersion::Core { "reportingComponent" } else { "reportingController" };
    let namespace = s(event, &["metadata", "namespace"]);
    let involved_ns = s(event, &["involvedObject", "namespace"]);
    let ns_path = Path::new("involvedObject.namespace");
    if at(event, &["eventTime"]).is_none() {
        if involved_ns.is_empty() {
            if !namespace.is_empty() && namespace != "default" {
                errs.push(invalid(&ns_path, involved_ns, "does not match event.namespace"));
            }
        } else if namespace != involved_ns {
            errs.push(invalid(&ns_path, involved_ns, "does not match event.namespace"));
        }
    } else {
        if involved_ns.is_empty() && namespace != "default" && namespace != "kube-system" {
            errs.push(invalid(&ns_path, involved_ns, "does not match event.namespace"));
        }
        let controller = s(event, &["reportingComponent"]);
        if controller.is_empty() {
            errs.push(required(&Path::new(reporting_field), ""));
        }
        for msg in kubeplex_core::names::is_qualified_name(controller) {
            errs.push(invalid(&Path::new(reporting_field), controller, &msg));
        }
        let instance = s(event, &["reportingInstance"]);
        if instance.is_empty() {
            errs.push(required(&Path::new("reportingInstance"), ""));
        }
        if instance.len() > 128 {
            errs.push(invalid(&Path::new("reportingInstance"), "", "can have at most 128 characters"));
        }
        let action = s(event, &["action"]);
        if action.is_empty() {
            errs.push(required(&Path::new("action"), ""));
        }
        if action.len() > 128 {
            errs.push(invalid(&Path::new("action"), "", "can have at most 128 characters"));
        }
        let reason = s(event, &["reason"]);
        if reason.is_empty() {
            errs.push(required(&Path::new("reason"), ""));
        }
        if reason.len() > 128 {
            errs.push(invalid(&Path::new("reason"), "", "can have at most 128 characters"));
        }
        if s(event, &["message"]).len() > 1024 {
            errs.push(invalid(&Path::new("message"), "", "can have at most 1024 characters"));
        }
    }
    for msg in kubeplex_core::names::is_dns1123_subdomain(namespace) {
        errs.push(invalid(&Path::new("namespace"), namespace, &msg));
    }
    errs
}

fn series_errors(event: &Value) -> Errs {
    let mut errs = Errs::new();
    if let Some(series) = at(event, &["series"]) {
        if int_at(series, &["count"]).unwrap_or(0) < 2 {
            errs.push(invalid(&Path::new("series.count"), "", "should be at least 2"));
        }
        if at(series, &["lastObservedTime"]).is_none() {
            errs.push(required(&Path::new("series.lastObservedTime"), ""));
        }
    }
    errs
}

/// `ValidateEventCreate` for the request's version: core/v1 gets only the
/// legacy checks; events.k8s.io/v1 also the strict ones (metadata included,
/// which the caller adds).
pub(crate) fn event_validate_create(object: &Value, version: EventVersion) -> Errs {
    let event = internal(object, version);
    let mut errs = legacy_validate(&event, version);
    if version == EventVersion::Core {
        return errs;
    }
    errs.extend(series_errors(&event));
    if at(&event, &["eventTime"]).is_none() {
        errs.push(required(&Path::new("eventTime"), ""));
    }
    let kind = s(&event, &["type"]);
    if kind != "Normal" && kind != "Warning" {
        errs.push(invalid(&Path::new("type"), "", &format!("has invalid value: {kind}")));
    }
    if at(&event, &["firstTimestamp"]).is_some() {
        errs.push(invalid(&Path::new("deprecatedFirstTimestamp"), "", "needs to be unset"));
    }
    if at(&event, &["lastTimestamp"]).is_some() {
        errs.push(invalid(&Path::new("deprecatedLastTimestamp"), "", "needs to be unset"));
    }
    if int_at(&event, &["count"]).unwrap_or(0) != 0 {
        errs.push(invalid(&Path::new("deprecatedCount"), "", "needs to be unset"));
    }
    if !s(&event, &["source", "component"]).is_empty() || !s(&event, &["source", "host"]).is_empty() {
        errs.push(invalid(&Path::new("deprecatedSource"), "", "needs to be unset"));
    }
    errs
}

/// `ValidateEventUpdate` for the request's version (metadata checks by the
/// caller): events.k8s.io/v1 may change little but the series.
pub(crate) fn event_validate_update(new: &Value, old: &Value, version: EventVersion) -> Errs {
    let new = internal(new, version);
    let old = internal(old, version);
    let mut errs = legacy_validate(&new, version);
    if version == EventVersion::Core {
        return errs;
    }
    if !super::field::semantic_eq(at(&new, &["series"]), at(&old, &["series"])) {
        errs.extend(series_errors(&new));
    }
    let strings = |errs: &mut Errs, field: &str| {
        immutable_str(errs, s(&new, &[field]), s(&old, &[field]), &Path::new(field));
    };
    immutable(&mut errs, at(&new, &["involvedObject"]), at(&old, &["involvedObject"]), &Path::new("involvedObject"));
    strings(&mut errs, "reason");
    strings(&mut errs, "message");
    immutable(&mut errs, at(&new, &["source"]), at(&old, &["source"]), &Path::new("source"));
    immutable(&mut errs, at(&new, &["firstTimestamp"]), at(&old, &["firstTimestamp"]), &Path::new("firstTimestamp"));
    immutable(&mut errs, at(&new, &["lastTimestamp"]), at(&old, &["lastTimestamp"]), &Path::new("lastTimestamp"));
    let (nc, oc) = (int_at(&new, &["count"]).unwrap_or(0), int_at(&old, &["count"]).unwrap_or(0));
    if nc != oc {
        errs.push(invalid_int(&Path::new("count"), nc, "field is immutable"));
    }
    strings(&mut errs, "reason");
    strings(&mut errs, "type");
    let micro = |v: &Value| s(v, &["eventTime"]).get(..26).map(str::to_owned);
    if micro(&new) != micro(&old) {
        immutable(&mut errs, at(&new, &["eventTime"]), at(&old, &["eventTime"]), &Path::new("eventTime"));
    }
    strings(&mut errs, "action");
    immutable(&mut errs, at(&new, &["related"]), at(&old, &["related"]), &Path::new("related"));
    immutable_str(
        &mut errs,
        s(&new, &["reportingComponent"]),
        s(&old, &["reportingComponent"]),
        &Path::new("reportingController"),
    );
    strings(&mut errs, "reportingInstance");
    errs
}

// -------------------------------------------------------- LogicalCluster

/// A LogicalCluster has no required spec; anything in it is kept.
pub(crate) fn logical_cluster_validate(object: &Value) -> Errs {
    let mut errs = Errs::new();
    if let Some(spec) = at(object, &["spec"])
        && !spec.is_object()
    {
        errs.push(invalid_json(&Path::new("spec"), spec, "must be an object"));
    }
    errs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategy::field::msgs;

    #[test]
    fn endpoint_slices() {
        let mut slice = json!({"addressType": "IPv4", "ports": [{"port": 80}],
            "endpoints": [{"addresses": ["10.0.0.1"]}]});
        endpoint_slice_defaults(&mut slice);
        assert_eq!(slice["ports"], json!([{"port": 80, "name": "", "protocol": "TCP"}]));
        assert_eq!(slice["endpoints"][0]["conditions"], json!({}));
        assert!(endpoint_slice_validate(&slice).is_empty());
        let mut empty = json!({"addressType": "IPv4"});
        endpoint_slice_defaults(&mut empty);
        assert_eq!(empty["endpoints"], Value::Null);
        assert!(empty.as_object().unwrap().contains_key("endpoints"));
        let bad = json!({"endpoints": [{"addresses": []}]});
        assert_eq!(
            msgs(&endpoint_slice_validate(&bad)),
            ["addressType: Required value", "endpoints[0].addresses: Required value: must contain at least 1 address"]
        );
        let new = json!({"addressType": "IPv6"});
        assert_eq!(
            msgs(&endpoint_slice_validate_update(&new, &slice)),
            ["addressType: Invalid value: \"IPv6\": field is immutable"]
        );
        let mut updated = slice.clone();
        updated["metadata"] = json!({"generation": 1});
        let mut next = updated.clone();
        next["endpoints"][0]["addresses"] = json!(["10.0.0.2"]);
        endpoint_slice_generation(&mut next, Some(&updated));
        assert_eq!(next["metadata"]["generation"], 2);
    }

    #[test]
    fn event_conversion_round_trips() {
        let events = json!({"apiVersion": "events.k8s.io/v1", "kind": "Event",
            "metadata": {"name": "e", "namespace": "default"},
            "eventTime": "2024-01-01T00:00:00.000000Z", "reportingController": "kubeplex.io/test",
            "reportingInstance": "i", "action": "Create", "reason": "Created", "note": "made it",
            "type": "Normal", "regarding": {"kind": "Pod", "name": "p", "namespace": "default"}});
        let core = core_event_from_events_v1(&events);
        assert_eq!(core["apiVersion"], "v1");
        assert_eq!(core["message"], "made it");
        assert_eq!(core["reportingComponent"], "kubeplex.io/test");
        assert_eq!(core["involvedObject"]["name"], "p");
        assert_eq!(core["firstTimestamp"], Value::Null);
        let back = events_v1_from_core_event(&core);
        assert_eq!(back["note"], "made it");
        assert_eq!(back["regarding"]["name"], "p");
        assert_eq!(back["deprecatedSource"], json!({}));
        assert!(event_validate_create(&events, EventVersion::Events).is_empty());
        assert!(event_validate_create(&core, EventVersion::Core).is_empty());
    }

    #[test]
    fn event_validation() {
        let bad = json!({"metadata": {"name": "e", "namespace": "default"}, "eventTime": "2024-01-01T00:00:00.000000Z",
            "type": "Odd", "deprecatedCount": 3});
        assert_eq!(
            msgs(&event_validate_create(&bad, EventVersion::Events)),
            [
                "reportingController: Required value",
                "reportingController: Invalid value: \"\": name part must be non-empty",
                "reportingController: Invalid value: \"\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
                "reportingInstance: Required value",
                "action: Required value",
                "reason: Required value",
                "type: Invalid value: \"\": has invalid value: Odd",
                "deprecatedCount: Invalid value: \"\": needs to be unset",
            ]
        );
        let core = json!({"metadata": {"name": "e", "namespace": "demo"}, "involvedObject": {"namespace": "other"}});
        assert_eq!(
            msgs(&event_validate_create(&core, EventVersion::Core)),
            ["involvedObject.namespace: Invalid value: \"other\": does not match event.namespace"]
        );
    }

    #[test]
    fn leases() {
        let lease = json!({"spec": {"leaseDurationSeconds": 0, "leaseTransitions": -1}});
        assert_eq!(
            msgs(&lease_validate(&lease)),
            [
                "spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0",
                "spec.leaseTransitions: Invalid value: -1: must be greater than or equal to 0",
            ]
        );
    }
}
