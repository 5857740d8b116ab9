//! resource.k8s.io/v1 (dynamic resource allocation): DeviceClass,
//! ResourceClaim, ResourceClaimTemplate and ResourceSlice — the defaults of
//! `pkg/apis/resource/v1` and the main rules of
//! `pkg/apis/resource/validation` (names, required fields, one-of unions,
//! list limits, immutable specs). CEL selectors are checked for presence and
//! length, not compiled; device attributes and capacities are checked for
//! their shape only.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use super::cluster::{csi_driver_name, dns_label, dns_subdomain, node_selector};
use super::field::{
    Errs, Path, at, bool_at, duplicate, each_obj_mut, forbidden, int_at, invalid, invalid_int, invalid_json,
    invalid_rendered, list_at, not_supported, render_ordered, required, s, set_default, str_at, too_long, too_many,
};
use super::gojson::internal_json;

const REQUESTS_MAX: usize = 32;
const CONSTRAINTS_MAX: usize = 32;
const CONFIG_MAX: usize = 32;
const SELECTORS_MAX: usize = 32;
const FIRST_AVAILABLE_MAX: usize = 8;
const CEL_EXPRESSION_MAX: usize = 10 * 1024;
const OPAQUE_PARAMETERS_MAX: usize = 10 * 1024;
const SLICE_DEVICES_MAX: usize = 128;
const SLICE_DEVICES_WITH_TAINTS_MAX: usize = 64;
const POOL_NAME_MAX: usize = 253;

// -------------------------------------------------------------- defaults

/// `SetDefaults_ExactDeviceRequest` / `SetDefaults_DeviceSubRequest`.
fn request_defaults(request: &mut Map<String, Value>) {
    set_default(request, "allocationMode", json!("ExactCount"));
    if request.get("allocationMode").and_then(Value::as_str) == Some("ExactCount")
        && request.get("count").and_then(Value::as_i64).unwrap_or(0) == 0
    {
        request.insert("count".into(), json!(1));
    }
}

fn claim_spec_defaults(spec: &mut Map<String, Value>) {
    let Some(devices) = spec.get_mut("devices").and_then(Value::as_object_mut) else { return };
    for request in each_obj_mut(devices, "requests") {
        if let Some(exactly) = request.get_mut("exactly").and_then(Value::as_object_mut) {
            request_defaults(exactly);
        }
        for sub in each_obj_mut(request, "firstAvailable") {
            request_defaults(sub);
        }
    }
}

/// The request defaults of claims and claim templates, and `timeAdded` of
/// device taints in slices.
pub(super) fn defaults(object: &mut Value) {
    let Some(spec) = object.get_mut("spec").and_then(Value::as_object_mut) else { return };
    claim_spec_defaults(spec);
    if let Some(inner) = spec.get_mut("spec").and_then(Value::as_object_mut) {
        claim_spec_defaults(inner);
    }
    let now = crate::objects::now();
    for device in each_obj_mut(spec, "devices") {
        for taint in each_obj_mut(device, "taints") {
            set_default(taint, "timeAdded", json!(now));
        }
    }
}

// ------------------------------------------------------------ validation

/// `validateSlice`'s size check (short-circuits, as upstream).
fn too_many_items(list: &[Value], max: usize, path: &Path) -> Option<Errs> {
    (list.len() > max).then(|| vec![too_many(path, list.len(), max)])
}

/// `validateSelectorSlice`.
fn selectors(holder: &Value, path: &Path) -> Errs {
    let list = list_at(holder, &["selectors"]);
    if let Some(errs) = too_many_items(list, SELECTORS_MAX, path) {
        return errs;
    }
    let mut errs = Errs::new();
    for (i, selector) in list.iter().enumerate() {
        let cp = path.index(i).child("cel");
        match at(selector, &["cel"]) {
            None => errs.push(required(&cp, "")),
            Some(cel) => {
                if s(cel, &["expression"]).len() > CEL_EXPRESSION_MAX {
                    errs.push(too_long(&cp.child("expression"), CEL_EXPRESSION_MAX));
                }
            }
        }
    }
    errs
}

/// `validateDeviceClass` of a request: required, a DNS subdomain.
fn device_class_name(name: &str, path: &Path) -> Errs {
    if name.is_empty() { vec![required(path, "")] } else { dns_subdomain(name, path) }
}

/// `validateDeviceAllocationMode`.
fn allocation_mode(request: &Value, path: &Path) -> Errs {
    let count = int_at(request, &["count"]).unwrap_or(0);
    match s(request, &["allocationMode"]) {
        "All" if count != 0 => {
            vec![invalid_int(&path.child("count"), count, "must not be specified when allocationMode is 'All'")]
        }
        "All" => Errs::new(),
        "ExactCount" if count <= 0 => vec![invalid_int(&path.child("count"), count, "must be greater than zero")],
        "ExactCount" => Errs::new(),
        other => vec![not_supported(&path.child("allocationMode"), other, &["All", "ExactCount"])],
    }
}

/// `validateExactDeviceRequest` / `validateDeviceSubRequest` (after the name).
fn request_body(request: &Value, path: &Path) -> Errs {
    let mut errs = device_class_name(s(request, &["deviceClassName"]), &path.child("deviceClassName"));
    errs.extend(selectors(request, &path.child("selectors")));
    errs.extend(allocation_mode(request, path));
    errs
}

/// Duplicate names in a set keyed by `name`.
fn duplicate_names(list: &[Value], key: &str, path: &Path) -> Errs {
    let mut seen = BTreeSet::new();
    let mut errs = Errs::new();
    for (i, item) in list.iter().enumerate() {
        let name = s(item, &[key]);
        if !seen.insert(name) {
            errs.push(duplicate(&path.index(i), name));
        }
    }
    errs
}

/// The request names (and `request/subrequest` names) of a claim.
fn request_names(devices: &Value) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for request in list_at(devices, &["requests"]) {
        let name = s(request, &["name"]);
        names.insert(name.to_owned());
        for sub in list_at(request, &["firstAvailable"]) {
            names.insert(format!("{name}/{}", s(sub, &["name"])));
        }
    }
    names
}

/// `validateRequestNameRef`.
fn request_name_ref(name: &str, path: &Path, names: &BTreeSet<String>) -> Errs {
    const WHAT: &str =
        "must be the name of a request in the claim or the name of a request and a subrequest separated by '/'";
    let segments: Vec<&str> = name.split('/').collect();
    if segments.len() > 2 {
        return vec![invalid(path, name, WHAT)];
    }
    let mut errs: Errs = segments.iter().flat_map(|segment| dns_label(segment, path)).collect();
    if !names.contains(name) {
        errs.push(invalid(path, name, WHAT));
    }
    errs
}

/// `validateDeviceConfiguration`: an opaque configuration with a driver and
/// JSON object parameters.
fn device_configuration(config: &Value, path: &Path) -> Errs {
    let op = path.child("opaque");
    let Some(opaque) = at(config, &["opaque"]) else { return vec![required(&op, "")] };
    let mut errs = csi_driver_name(s(opaque, &["driver"]), &op.child("driver"));
    let pp = op.child("parameters");
    match at(opaque, &["parameters"]) {
        None => errs.push(required(&pp, "")),
        Some(params) if params.to_string().len() > OPAQUE_PARAMETERS_MAX => {
            errs.push(too_long(&pp, OPAQUE_PARAMETERS_MAX))
        }
        Some(Value::Object(_)) => {}
        Some(_) => errs.push(invalid(&pp, "<value omitted>", "must be a valid JSON object")),
    }
    errs
}

/// `validateDeviceClaim`.
fn device_claim(devices: &Value, path: &Path) -> Errs {
    let names = request_names(devices);
    let mut errs = Errs::new();
    let rp = path.child("requests");
    let requests = list_at(devices, &["requests"]);
    match too_many_items(requests, REQUESTS_MAX, &rp) {
        Some(e) => errs.extend(e),
        None => {
            for (i, request) in requests.iter().enumerate() {
                let ip = rp.index(i);
                errs.extend(dns_label(s(request, &["name"]), &ip.child("name")));
                let first = list_at(request, &["firstAvailable"]);
                match (at(request, &["exactly"]), first.is_empty()) {
                    (None, true) => {
                        errs.push(required(&ip, "exactly one of `exactly` or `firstAvailable` is required"))
                    }
                    (Some(_), false) => errs.push(invalid_rendered(
                        &ip,
                        "null",
                        "exactly one of `exactly` or `firstAvailable` is required, but multiple fields are set",
                    )),
                    (Some(exactly), true) => errs.extend(request_body(exactly, &ip.child("exactly"))),
                    (None, false) => {
                        let fp = ip.child("firstAvailable");
                        match too_many_items(first, FIRST_AVAILABLE_MAX, &fp) {
                            Some(e) => errs.extend(e),
                            None => {
                                for (j, sub) in first.iter().enumerate() {
                                    let sp = fp.index(j);
                                    errs.extend(dns_label(s(sub, &["name"]), &sp.child("name")));
                                    errs.extend(request_body(sub, &sp));
                                }
                                errs.extend(duplicate_names(first, "name", &fp));
                            }
                        }
                    }
                }
            }
            errs.extend(duplicate_names(requests, "name", &rp));
        }
    }
    let cp = path.child("constraints");
    let constraints = list_at(devices, &["constraints"]);
    match too_many_items(constraints, CONSTRAINTS_MAX, &cp) {
        Some(e) => errs.extend(e),
        None => {
            for (i, constraint) in constraints.iter().enumerate() {
                let ip = cp.index(i);
                for (j, name) in list_at(constraint, &["requests"]).iter().enumerate() {
                    errs.extend(request_name_ref(name.as_str().unwrap_or(""), &ip.child("requests").index(j), &names));
                }
                if at(constraint, &["matchAttribute"]).is_none() && at(constraint, &["distinctAttribute"]).is_none() {
                    errs.push(required(&ip.child("matchAttribute"), ""));
                }
            }
        }
    }
    let fp = path.child("config");
    let configs = list_at(devices, &["config"]);
    match too_many_items(configs, CONFIG_MAX, &fp) {
        Some(e) => errs.extend(e),
        None => {
            for (i, config) in configs.iter().enumerate() {
                let ip = fp.index(i);
                for (j, name) in list_at(config, &["requests"]).iter().enumerate() {
                    errs.extend(request_name_ref(name.as_str().unwrap_or(""), &ip.child("requests").index(j), &names));
                }
                errs.extend(device_configuration(config, &ip));
            }
        }
    }
    errs
}

/// `validateResourceClaimSpec` of the spec at `spec_path`.
fn claim_spec(object: &Value, spec_path: &[&str], path: &Path) -> Errs {
    let empty = json!({});
    let devices = at(object, spec_path).and_then(|spec| at(spec, &["devices"])).unwrap_or(&empty);
    device_claim(devices, &path.child("devices"))
}

/// `ValidateResourceClaim` beyond metadata.
pub(super) fn claim_validate(object: &Value) -> Errs {
    claim_spec(object, &["spec"], &Path::new("spec"))
}

/// `ValidateResourceClaimTemplate` beyond metadata: the template's labels
/// and annotations, then its claim spec.
pub(super) fn template_validate(object: &Value) -> Errs {
    let mp = Path::new("spec.metadata");
    let mut errs = kubeplex_core::names::validate_labels(
        super::field::string_map(object, &["spec", "metadata", "labels"]),
        mp.child("labels").as_str(),
    );
    errs.extend(kubeplex_core::names::validate_annotations(
        super::field::string_map(object, &["spec", "metadata", "annotations"]),
        mp.child("annotations").as_str(),
    ));
    errs.extend(claim_spec(object, &["spec", "spec"], &Path::new("spec.spec")));
    errs
}

/// Claims and claim templates: the spec may not change.
pub(super) fn spec_immutable(new: &Value, old: &Value) -> Errs {
    if super::field::semantic_eq(at(new, &["spec"]), at(old, &["spec"])) {
        return Errs::new();
    }
    let type_name = if at(new, &["spec", "spec"]).is_some() || at(old, &["spec", "spec"]).is_some() {
        "io.k8s.api.resource.v1.ResourceClaimTemplateSpec"
    } else {
        "io.k8s.api.resource.v1.ResourceClaimSpec"
    };
    vec![invalid_rendered(
        &Path::new("spec"),
        &render_ordered(&internal_json(at(new, &["spec"]), type_name)),
        "field is immutable",
    )]
}

/// `validateResourceClaimStatusUpdate`'s consumer and allocation checks.
pub(super) fn claim_status_validate(object: &Value) -> Errs {
    let rp = Path::new("status.reservedFor");
    let reserved = list_at(object, &["status", "reservedFor"]);
    let mut errs = Errs::new();
    for (i, consumer) in reserved.iter().enumerate() {
        for field in ["resource", "name", "uid"] {
            if s(consumer, &[field]).is_empty() {
                errs.push(required(&rp.index(i).child(field), ""));
            }
        }
    }
    errs.extend(duplicate_names(reserved, "uid", &rp));
    if !reserved.is_empty() && at(object, &["status", "allocation"]).is_none() {
        errs.push(forbidden(&rp, "may not be specified when `allocated` is not set"));
    }
    errs
}

/// `ValidateDeviceClass` beyond metadata (`old` on update).
pub(super) fn device_class_validate(object: &Value, _old: Option<&Value>) -> Errs {
    let sp = Path::new("spec");
    let empty = json!({});
    let spec = at(object, &["spec"]).unwrap_or(&empty);
    let mut errs = selectors(spec, &sp.child("selectors"));
    let cp = sp.child("config");
    let configs = list_at(spec, &["config"]);
    match too_many_items(configs, CONFIG_MAX, &cp) {
        Some(e) => errs.extend(e),
        None => {
            for (i, config) in configs.iter().enumerate() {
                errs.extend(device_configuration(config, &cp.index(i)));
            }
        }
    }
    if let Some(name) = str_at(spec, &["extendedResourceName"])
        && !is_extended_resource_name(name)
    {
        errs.push(invalid(&sp.child("extendedResourceName"), name, "must be a valid extended resource name"));
    }
    errs
}

/// `IsExtendedResourceName`: a qualified name with a domain outside
/// `kubernetes.io`, not `requests.`-prefixed.
fn is_extended_resource_name(name: &str) -> bool {
    let Some((domain, _)) = name.split_once('/') else { return false };
    if domain == "kubernetes.io" || domain.ends_with(".kubernetes.io") || name.starts_with("requests.") {
        return false;
    }
    kubeplex_core::names::is_qualified_name(&format!("requests.{name}")).is_empty()
}

/// `validatePoolName`.
fn pool_name(name: &str, path: &Path) -> Errs {
    if name.is_empty() {
        return vec![required(path, "")];
    }
    let mut errs = Errs::new();
    if name.len() > POOL_NAME_MAX {
        errs.push(too_long(path, POOL_NAME_MAX));
    }
    for part in name.split('/') {
        errs.extend(dns_subdomain(part, path));
    }
    errs
}

/// `validateDevice` (attributes and capacities: shape only).
fn device(device: &Value, per_device_selection: bool, path: &Path) -> Errs {
    let mut errs = dns_label(s(device, &["name"]), &path.child("name"));
    if let Some(attributes) = at(device, &["attributes"]).and_then(Value::as_object) {
        let mut keys: Vec<&String> = attributes.keys().collect();
        keys.sort();
        for key in keys {
            let value = &attributes[key];
            let set = ["bool", "int", "string", "version"].iter().filter(|f| at(value, &[f]).is_some()).count();
            let ap = path.child("attributes").key(key);
            match set {
                0 => errs.push(invalid(&ap, "", "exactly one value must be specified")),
                1 => {}
                _ => errs.push(invalid_json(&ap, value, "exactly one value must be specified")),
            }
        }
    }
    let node_fields = [
        at(device, &["nodeName"]).is_some(),
        at(device, &["nodeSelector"]).is_some(),
        at(device, &["allNodes"]).is_some(),
    ];
    if per_device_selection {
        let mut set = Vec::new();
        if let Some(node) = str_at(device, &["nodeName"]) {
            if node.is_empty() {
                errs.push(invalid(&path.child("nodeName"), node, "must not be empty"));
            } else {
                set.push("`nodeName`");
                for msg in kubeplex_core::names::name_is_dns_subdomain(node, false) {
                    errs.push(invalid(&path.child("nodeName"), node, &msg));
                }
            }
        }
        if let Some(selector) = at(device, &["nodeSelector"]) {
            set.push("`nodeSelector`");
            errs.extend(node_selector(selector, &path.child("nodeSelector")));
        }
        match bool_at(device, &["allNodes"]) {
            Some(true) => set.push("`allNodes`"),
            Some(false) => {
                errs.push(invalid_rendered(&path.child("allNodes"), "false", "must be either unset or set to true"))
            }
            None => {}
        }
        const WHAT: &str = "exactly one of `nodeName`, `nodeSelector`, or `allNodes` is required when `perDeviceNodeSelection` is set to true in the ResourceSlice spec";
        match set.len() {
            0 => errs.push(required(path, WHAT)),
            1 => {}
            _ => errs.push(invalid(path, &format!("{{{}}}", set.join(", ")), WHAT)),
        }
    } else if node_fields.iter().any(|f| *f) {
        errs.push(invalid_rendered(
            path,
            "null",
            "`nodeName`, `nodeSelector` and `allNodes` can only be set if `perDeviceNodeSelection` is set to true in the ResourceSlice spec",
        ));
    }
    errs
}

/// `validateResourceSliceSpec` (`old` on update).
pub(super) fn slice_validate(object: &Value, old: Option<&Value>) -> Errs {
    let sp = Path::new("spec");
    let empty = json!({});
    let spec = at(object, &["spec"]).unwrap_or(&empty);
    let mut errs = csi_driver_name(s(spec, &["driver"]), &sp.child("driver"));
    let pp = sp.child("pool");
    errs.extend(pool_name(s(spec, &["pool", "name"]), &pp.child("name")));
    let slice_count = int_at(spec, &["pool", "resourceSliceCount"]).unwrap_or(0);
    if slice_count <= 0 {
        errs.push(invalid_int(&pp.child("resourceSliceCount"), slice_count, "must be greater than zero"));
    }
    let generation = int_at(spec, &["pool", "generation"]).unwrap_or(0);
    if generation < 0 {
        errs.push(invalid_int(&pp.child("generation"), generation, "must be greater than or equal to zero"));
    }
    if let Some(old) = old {
        let old_spec = at(old, &["spec"]).unwrap_or(&empty);
        for (path, field) in [(&["pool", "name"][..], pp.child("name")), (&["driver"][..], sp.child("driver"))] {
            super::field::immutable_str(&mut errs, s(spec, path), s(old_spec, path), &field);
        }
        super::field::immutable(&mut errs, at(spec, &["nodeName"]), at(old_spec, &["nodeName"]), &sp.child("nodeName"));
    }
    let mut set = Vec::new();
    if let Some(node) = str_at(spec, &["nodeName"]) {
        if node.is_empty() {
            errs.push(invalid(&sp.child("nodeName"), node, "must be either unset or set to a non-empty string"));
        } else {
            set.push("`nodeName`");
            for msg in kubeplex_core::names::name_is_dns_subdomain(node, false) {
                errs.push(invalid(&sp.child("nodeName"), node, &msg));
            }
        }
    }
    if let Some(selector) = at(spec, &["nodeSelector"]) {
        set.push("`nodeSelector`");
        errs.extend(node_selector(selector, &sp.child("nodeSelector")));
        let terms = list_at(selector, &["nodeSelectorTerms"]);
        if terms.len() != 1 {
            errs.push(invalid_json(
                &sp.child("nodeSelector").child("nodeSelectorTerms"),
                &json!(terms),
                "must have exactly one node selector term",
            ));
        }
    }
    for field in ["allNodes", "perDeviceNodeSelection"] {
        match bool_at(spec, &[field]) {
            Some(true) => set.push(if field == "allNodes" { "`allNodes`" } else { "`perDeviceNodeSelection`" }),
            Some(false) => {
                errs.push(invalid_rendered(&sp.child(field), "false", "must be either unset or set to true"))
            }
            None => {}
        }
    }
    const WHAT: &str = "exactly one of `nodeName`, `nodeSelector`, `allNodes`, `perDeviceNodeSelection` is required";
    match set.len() {
        0 => errs.push(required(&sp, WHAT)),
        1 => {}
        _ => {
            errs.push(invalid(&sp, &format!("{{{}}}", set.join(", ")), &format!("{WHAT}, but multiple fields are set")))
        }
    }
    if at(spec, &["sharedCounters"]).is_some() && at(spec, &["devices"]).is_some() {
        errs.push(invalid(&sp, "", "only one of `sharedCounters` or `devices` is allowed"));
    }
    let devices = list_at(spec, &["devices"]);
    let dp = sp.child("devices");
    let limited =
        devices.iter().any(|d| !list_at(d, &["taints"]).is_empty() || !list_at(d, &["consumesCounters"]).is_empty());
    let max = if limited { SLICE_DEVICES_WITH_TAINTS_MAX } else { SLICE_DEVICES_MAX };
    match too_many_items(devices, max, &dp) {
        Some(e) => errs.extend(e),
        None => {
            let per_device = bool_at(spec, &["perDeviceNodeSelection"]) == Some(true);
            for (i, d) in devices.iter().enumerate() {
                errs.extend(device(d, per_device, &dp.index(i)));
            }
            errs.extend(duplicate_names(devices, "name", &dp));
        }
    }
    let cp = sp.child("sharedCounters");
    let counters = list_at(spec, &["sharedCounters"]);
    for (i, set) in counters.iter().enumerate() {
        let ip = cp.index(i);
        let name = s(set, &["name"]);
        if name.is_empty() {
            errs.push(required(&ip.child("name"), ""));
        } else {
            errs.extend(dns_label(name, &ip.child("name")));
        }
        if at(set, &["counters"]).and_then(Value::as_object).is_none_or(Map::is_empty) {
            errs.push(required(&ip.child("counters"), ""));
        }
    }
    errs.extend(duplicate_names(counters, "name", &cp));
    errs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategy::field::msgs;

    #[test]
    fn claim_defaults_and_rules() {
        let mut claim = json!({"spec": {"devices": {"requests": [
            {"name": "gpu", "exactly": {"deviceClassName": "gpu.example.com"}},
            {"name": "alt", "firstAvailable": [{"name": "big", "deviceClassName": "big.example.com", "allocationMode": "All"}]}
        ]}}});
        defaults(&mut claim);
        assert_eq!(claim["spec"]["devices"]["requests"][0]["exactly"]["allocationMode"], "ExactCount");
        assert_eq!(claim["spec"]["devices"]["requests"][0]["exactly"]["count"], 1);
        assert!(claim["spec"]["devices"]["requests"][1]["firstAvailable"][0].get("count").is_none());
        assert!(claim_validate(&claim).is_empty(), "{:?}", msgs(&claim_validate(&claim)));
        let bad = json!({"spec": {"devices": {"requests": [{"name": "GPU"}, {"name": "x", "exactly": {"count": -1, "allocationMode": "ExactCount"}}],
            "constraints": [{"requests": ["nope"]}]}}});
        assert_eq!(
            msgs(&claim_validate(&bad)),
            [
                "spec.devices.requests[0].name: Invalid value: \"GPU\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
                "spec.devices.requests[0]: Required value: exactly one of `exactly` or `firstAvailable` is required",
                "spec.devices.requests[1].exactly.deviceClassName: Required value",
                "spec.devices.requests[1].exactly.count: Invalid value: -1: must be greater than zero",
                "spec.devices.constraints[0].requests[0]: Invalid value: \"nope\": must be the name of a request in the claim or the name of a request and a subrequest separated by '/'",
                "spec.devices.constraints[0].matchAttribute: Required value",
            ]
        );
    }

    #[test]
    fn slices() {
        let slice = json!({"spec": {"driver": "gpu.example.com", "nodeName": "node-1",
            "pool": {"name": "node-1", "generation": 1, "resourceSliceCount": 1},
            "devices": [{"name": "gpu-0", "attributes": {"model": {"string": "a100"}}}]}});
        assert!(slice_validate(&slice, None).is_empty());
        let bad = json!({"spec": {"driver": "", "pool": {"name": ""}, "allNodes": true, "nodeName": "n",
                                  "devices": [{"name": "a"}, {"name": "a"}]}});
        assert_eq!(
            msgs(&slice_validate(&bad, None)),
            [
                "spec.driver: Required value",
                "spec.driver: Invalid value: \"\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
                "spec.pool.name: Required value",
                "spec.pool.resourceSliceCount: Invalid value: 0: must be greater than zero",
                "spec: Invalid value: \"{`nodeName`, `allNodes`}\": exactly one of `nodeName`, `nodeSelector`, `allNodes`, `perDeviceNodeSelection` is required, but multiple fields are set",
                "spec.devices[1]: Duplicate value: \"a\"",
            ]
        );
        let mut changed = slice.clone();
        changed["spec"]["driver"] = json!("other.example.com");
        assert_eq!(
            msgs(&slice_validate(&changed, Some(&slice))),
            ["spec.driver: Invalid value: \"other.example.com\": field is immutable"]
        );
    }

    #[test]
    fn device_classes_and_templates() {
        let class = json!({"spec": {"selectors": [{"cel": {"expression": "device.driver == \"gpu.example.com\""}}, {}],
                                    "config": [{"opaque": {"driver": "gpu.example.com", "parameters": []}}]}});
        assert_eq!(
            msgs(&device_class_validate(&class, None)),
            [
                "spec.selectors[1].cel: Required value",
                "spec.config[0].opaque.parameters: Invalid value: \"<value omitted>\": must be a valid JSON object",
            ]
        );
        let mut template = json!({"spec": {"metadata": {"labels": {"a": "b c"}},
                                       "spec": {"devices": {"requests": [{"name": "r", "exactly": {"deviceClassName": "c"}}]}}}});
        defaults(&mut template);
        let errs = msgs(&template_validate(&template));
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(errs[0].starts_with("spec.metadata.labels: Invalid value: \"b c\""), "{errs:?}");
        let old = json!({"spec": {"devices": {}}});
        let new = json!({"spec": {"devices": {"requests": []}}});
        assert_eq!(
            msgs(&spec_immutable(&json!({"spec": {"devices": {"requests": [{"name": "x"}]}}}), &old)),
            [
                "spec: Invalid value: {\"Devices\":{\"Requests\":[{\"Name\":\"x\",\"Exactly\":null,\"FirstAvailable\":null}],\"Constraints\":null,\"Config\":null}}: field is immutable"
            ]
        );
        assert!(spec_immutable(&new, &new).is_empty());
    }
}
