//! Pods (`pkg/registry/core/pod/strategy.go`): a new pod is `Pending` with its
//! QoS class computed, a scheduling-gated pod gets its `PodScheduled=False`
//! condition; updates keep the status and may only change what
//! `ValidatePodUpdate` allows (images, `activeDeadlineSeconds`, added
//! tolerations, a negative grace period set to 1, removed scheduling gates).

use std::collections::BTreeMap;

use kubeplex_core::quantity::Quantity;
use serde_json::{Map, Value, json};

use super::field::{
    Errs, Path, at, forbidden, int_at, invalid, invalid_int, invalid_json, list_at, map_at, obj_path, render, required,
    s, string_map,
};
use super::podspec::{self, PodOpts};

/// `qos.ComputePodQOS`: `Guaranteed`, `Burstable` or `BestEffort`, from the cpu
/// and memory requests and limits of the containers and init containers (or of
/// the pod-level resources when those are set).
pub(crate) fn qos_class(spec: &Value) -> &'static str {
    let mut requests: BTreeMap<String, Quantity> = BTreeMap::new();
    let mut limits: BTreeMap<String, Quantity> = BTreeMap::new();
    let mut guaranteed = true;
    let add = |target: &mut BTreeMap<String, Quantity>, list: Option<&Map<String, Value>>| -> Vec<String> {
        let mut found = Vec::new();
        for (name, value) in list.into_iter().flatten() {
            if name != "cpu" && name != "memory" {
                continue;
            }
            let Some(q) = value.as_str().and_then(|s| Quantity::parse(s).ok()) else { continue };
            if q.sign() != std::cmp::Ordering::Greater {
                continue;
            }
            found.push(name.clone());
            let sum = match target.get(name) {
                Some(existing) => existing.checked_add(&q).unwrap_or(q),
                None => q,
            };
            target.insert(name.clone(), sum);
        }
        found
    };
    let pod_level = at(spec, &["resources"]).filter(|r| {
        map_at(r, &["requests"]).is_some_and(|m| !m.is_empty()) || map_at(r, &["limits"]).is_some_and(|m| !m.is_empty())
    });
    if let Some(resources) = pod_level {
        add(&mut requests, map_at(resources, &["requests"]));
        if let Some(l) = map_at(resources, &["limits"]).filter(|l| !l.is_empty()) {
            let found = add(&mut limits, Some(l));
            if !(found.iter().any(|n| n == "cpu") && found.iter().any(|n| n == "memory")) {
                guaranteed = false;
            }
        }
    } else {
        for list in ["containers", "initContainers"] {
            for c in list_at(spec, &[list]) {
                add(&mut requests, map_at(c, &["resources", "requests"]));
                let found = add(&mut limits, map_at(c, &["resources", "limits"]));
                if !(found.iter().any(|n| n == "cpu") && found.iter().any(|n| n == "memory")) {
                    guaranteed = false;
                }
            }
        }
    }
    if requests.is_empty() && limits.is_empty() {
        return "BestEffort";
    }
    if guaranteed && requests.iter().any(|(name, req)| limits.get(name) != Some(req)) {
        guaranteed = false;
    }
    if guaranteed && requests.len() == limits.len() { "Guaranteed" } else { "Burstable" }
}

/// Defaults (`SetDefaults_Pod`, `SetDefaults_PodSpec`, ...).
pub(crate) fn defaults(object: &mut Value) {
    if let Some(spec) = obj_path(object, &["spec"]) {
        podspec::default_pod_spec(spec, true);
    }
}

/// `PrepareForCreate`: status `Pending` with the QoS class, generation 1, the
/// `SchedulingGated` condition for a pod with scheduling gates.
pub(crate) fn prepare_for_create(object: &mut Value) {
    let qos = qos_class(&object["spec"]);
    let mut status = json!({"phase": "Pending", "qosClass": qos});
    if !list_at(object, &["spec", "schedulingGates"]).is_empty() {
        status["conditions"] = json!([{
            "type": "PodScheduled",
            "status": "False",
            "lastProbeTime": null,
            "lastTransitionTime": null,
            "reason": "SchedulingGated",
            "message": "Scheduling is blocked due to non-empty scheduling gates",
        }]);
    }
    if let Some(obj) = object.as_object_mut() {
        obj.insert("status".into(), status);
    }
    if let Some(meta) = obj_path(object, &["metadata"]) {
        meta.insert("generation".into(), json!(1));
    }
}

/// The two built-in PriorityClasses.
const SYSTEM_PRIORITY_CLASSES: &[(&str, i64)] =
    &[("system-node-critical", 2_000_001_000), ("system-cluster-critical", 2_000_000_000)];

/// What the `Priority` and `DefaultTolerationSeconds` admission plugins add to
/// a new Pod when no PriorityClass objects are involved: `priority` and
/// `preemptionPolicy` for a pod without a class (or with a built-in one), and
/// 300-second `NoExecute` tolerations of `node.kubernetes.io/not-ready` and
/// `node.kubernetes.io/unreachable` unless the pod tolerates them already.
pub(crate) fn admission_defaults(object: &mut Value) {
    let Some(spec) = obj_path(object, &["spec"]) else { return };
    let class = spec.get("priorityClassName").and_then(Value::as_str).unwrap_or("").to_owned();
    let priority = if class.is_empty() {
        Some(0)
    } else {
        SYSTEM_PRIORITY_CLASSES.iter().find(|(name, _)| *name == class).map(|(_, p)| *p)
    };
    if let Some(priority) = priority {
        super::field::set_default(spec, "priority", json!(priority));
        super::field::set_default(spec, "preemptionPolicy", json!("PreemptLowerPriority"));
    }
    let tolerations = spec.get("tolerations").and_then(Value::as_array).cloned().unwrap_or_default();
    let tolerates = |key: &str| {
        tolerations.iter().any(|t| {
            let k = s(t, &["key"]);
            let effect = s(t, &["effect"]);
            (k == key || k.is_empty()) && (effect == "NoExecute" || effect.is_empty())
        })
    };
    let mut added = Vec::new();
    for key in ["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"] {
        if !tolerates(key) {
            added.push(json!({"key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}));
        }
    }
    if !added.is_empty() {
        let mut all = tolerations;
        all.extend(added);
        spec.insert("tolerations".into(), Value::Array(all));
    }
}

/// `validatePodMetadataAndSpec` without the metadata part (done by the caller).
fn validate_spec(object: &Value) -> Errs {
    let spec_path = Path::new("spec");
    let empty = json!({});
    let spec = at(object, &["spec"]).unwrap_or(&empty);
    let mut errs = Errs::new();
    // Pod-specific annotations.
    let annotations = Path::new("metadata.annotations");
    if let Some(value) = at(object, &["metadata", "annotations", "kubernetes.io/config.mirror"])
        && s(spec, &["nodeName"]).is_empty()
    {
        errs.push(invalid(
            &annotations.key("kubernetes.io/config.mirror"),
            value.as_str().unwrap_or(""),
            "must set spec.nodeName if mirror pod annotation is set",
        ));
    }
    if let Some(cost) = at(object, &["metadata", "annotations", "controller.kubernetes.io/pod-deletion-cost"]) {
        let cost = cost.as_str().unwrap_or("");
        if cost.parse::<i32>().is_err() {
            errs.push(invalid(
                &annotations.key("controller.kubernetes.io/pod-deletion-cost"),
                cost,
                "must be a 32bit integer",
            ));
        }
    }
    let name = s(object, &["metadata", "name"]);
    errs.extend(podspec::validate_pod_spec(spec, Some(name), &spec_path, PodOpts { resource_is_pod: true }));
    if s(spec, &["serviceAccountName"]).is_empty() {
        for (vi, volume) in list_at(spec, &["volumes"]).iter().enumerate() {
            for (si, source) in list_at(volume, &["projected", "sources"]).iter().enumerate() {
                if at(source, &["serviceAccountToken"]).is_some() {
                    errs.push(forbidden(
                        &spec_path
                            .child("volumes")
                            .index(vi)
                            .child("projected")
                            .child("sources")
                            .index(si)
                            .child("serviceAccountToken"),
                        "must not be specified when serviceAccountName is not set",
                    ));
                }
            }
        }
    }
    for list in ["containers", "initContainers"] {
        for (i, c) in list_at(spec, &[list]).iter().enumerate() {
            podspec::image_whitespace(c, &spec_path.child(list).index(i), &mut errs);
        }
    }
    errs
}

/// `ValidatePodCreate` (after the metadata checks).
pub(crate) fn validate_create(object: &Value) -> Errs {
    let mut errs = validate_spec(object);
    let spec = Path::new("spec");
    if !list_at(object, &["spec", "ephemeralContainers"]).is_empty() {
        errs.push(forbidden(&spec.child("ephemeralContainers"), "cannot be set on create"));
    }
    if !s(object, &["spec", "nodeName"]).is_empty() && !list_at(object, &["spec", "schedulingGates"]).is_empty() {
        errs.push(forbidden(&spec.child("nodeName"), "cannot be set until all schedulingGates have been cleared"));
    }
    errs
}

/// The fields `ValidatePodUpdate` lets change.
const UPDATABLE: &[&str] = &[
    "`spec.containers[*].image`",
    "`spec.initContainers[*].image`",
    "`spec.activeDeadlineSeconds`",
    "`spec.tolerations` (only additions to existing tolerations)",
    "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
];

/// `ValidatePodUpdate` (after the metadata checks).
pub(crate) fn validate_update(new: &Value, old: &Value) -> Errs {
    let mut errs = validate_spec(new);
    let spec_path = Path::new("spec");
    let annotations = Path::new("metadata.annotations");
    let new_ann = string_map(new, &["metadata", "annotations"]);
    let old_ann = string_map(old, &["metadata", "annotations"]);
    for (k, v) in &old_ann {
        if new_ann.iter().any(|(nk, nv)| nk == k && nv == v) {
            continue;
        }
        if *k == "kubernetes.io/config.mirror" {
            errs.push(forbidden(&annotations.key(k), "may not remove or update mirror pod annotation"));
        }
    }
    for (k, _) in &new_ann {
        if *k == "kubernetes.io/config.mirror" && !old_ann.iter().any(|(ok, _)| ok == k) {
            errs.push(forbidden(&annotations.key(k), "may not add mirror pod annotation"));
        }
    }
    let empty = json!({});
    let new_spec = at(new, &["spec"]).unwrap_or(&empty);
    let old_spec = at(old, &["spec"]).unwrap_or(&empty);
    for list in ["containers", "initContainers"] {
        let n = list_at(new_spec, &[list]);
        let o = list_at(old_spec, &[list]);
        let lp = spec_path.child(list);
        if n.len() != o.len() {
            errs.push(forbidden(&lp, "pod updates may not add or remove containers"));
            return errs;
        }
        for (i, c) in n.iter().enumerate() {
            let image = s(c, &["image"]);
            if image.is_empty() {
                errs.push(required(&lp.index(i).child("image"), ""));
            }
            if image.trim() != image {
                errs.push(invalid(&lp.index(i).child("image"), image, "must not have leading or trailing whitespace"));
            }
        }
    }
    let ads_path = spec_path.child("activeDeadlineSeconds");
    match (int_at(new_spec, &["activeDeadlineSeconds"]), int_at(old_spec, &["activeDeadlineSeconds"])) {
        (Some(n), old_ads) => {
            if !(0..=i64::from(i32::MAX)).contains(&n) {
                errs.push(invalid_int(&ads_path, n, "must be between 0 and 2147483647, inclusive"));
                return errs;
            }
            if let Some(o) = old_ads
                && o < n
            {
                errs.push(invalid_int(&ads_path, n, "must be less than or equal to previous value"));
                return errs;
            }
        }
        (None, Some(_)) => {
            errs.push(invalid_json(&ads_path, &Value::Null, "must not update from a positive integer to nil value"));
        }
        (None, None) => {}
    }
    let new_tol = list_at(new_spec, &["tolerations"]);
    let tol_path = spec_path.child("tolerations");
    let only_added = list_at(old_spec, &["tolerations"]).iter().all(|old_t| {
        new_tol.iter().any(|new_t| {
            let mut a = old_t.clone();
            let mut b = new_t.clone();
            if let (Some(a), Some(b)) = (a.as_object_mut(), b.as_object_mut()) {
                a.remove("tolerationSeconds");
                b.remove("tolerationSeconds");
            }
            a == b
        })
    });
    if only_added {
        podspec::validate_tolerations(new_tol, &tol_path, &mut errs);
    } else {
        errs.push(forbidden(&tol_path, "existing toleration can not be modified except its tolerationSeconds"));
    }
    let old_gates: Vec<&str> = list_at(old_spec, &["schedulingGates"]).iter().map(|g| s(g, &["name"])).collect();
    for (i, gate) in list_at(new_spec, &["schedulingGates"]).iter().enumerate() {
        let name = s(gate, &["name"]);
        if !old_gates.contains(&name) {
            errs.push(forbidden(
                &spec_path.child("schedulingGates").index(i).child("name"),
                &format!("only deletion is allowed, but found new scheduling gate '{name}'"),
            ));
        }
    }
    if new_spec == old_spec {
        return errs;
    }
    let munged = munge_updatable(new_spec, old_spec);
    let mut gated_errs = Errs::new();
    let munged = relax_gated(munged, old_spec, &spec_path, &mut gated_errs);
    errs.extend(gated_errs);
    if !super::field::semantic_eq(Some(&munged), Some(old_spec)) {
        errs.push(forbidden(
            &spec_path,
            &format!(
                "pod updates may not change fields other than {}\n{}",
                UPDATABLE.join(","),
                spec_diff(old_spec, &munged)
            ),
        ));
    }
    errs
}

/// The new spec with the updatable fields put back to their old values.
fn munge_updatable(new_spec: &Value, old_spec: &Value) -> Value {
    let mut munged = new_spec.clone();
    let Some(m) = munged.as_object_mut() else { return munged };
    for list in ["containers", "initContainers"] {
        let old_list = list_at(old_spec, &[list]);
        if let Some(items) = m.get_mut(list).and_then(Value::as_array_mut) {
            for (i, c) in items.iter_mut().enumerate() {
                if let (Some(c), Some(old)) = (c.as_object_mut(), old_list.get(i)) {
                    match at(old, &["image"]) {
                        Some(image) => c.insert("image".into(), image.clone()),
                        None => c.remove("image"),
                    };
                }
            }
        }
    }
    for field in ["activeDeadlineSeconds", "schedulingGates", "tolerations"] {
        match at(old_spec, &[field]) {
            Some(v) => m.insert(field.into(), v.clone()),
            None => m.remove(field),
        };
    }
    let old_grace = int_at(old_spec, &["terminationGracePeriodSeconds"]);
    if old_grace.is_some_and(|g| g < 0) && m.get("terminationGracePeriodSeconds").and_then(Value::as_i64) == Some(1) {
        m.insert("terminationGracePeriodSeconds".into(), json!(old_grace));
    }
    munged
}

/// For a pod whose scheduling gates are still set: node selector additions and
/// node affinity additions are allowed.
fn relax_gated(mut munged: Value, old_spec: &Value, spec_path: &Path, errs: &mut Errs) -> Value {
    if list_at(old_spec, &["schedulingGates"]).is_empty() {
        return munged;
    }
    let new_selector = string_map(&munged, &["nodeSelector"]);
    let old_selector = string_map(old_spec, &["nodeSelector"]);
    if new_selector != old_selector {
        if old_selector.iter().any(|(k, v)| !new_selector.contains(&(*k, *v))) {
            errs.push(invalid_json(
                &spec_path.child("nodeSelector"),
                at(&munged, &["nodeSelector"]).unwrap_or(&Value::Null),
                "only additions to spec.nodeSelector are allowed (no mutations or deletions)",
            ));
        }
        if let Some(m) = munged.as_object_mut() {
            match at(old_spec, &["nodeSelector"]) {
                Some(v) => m.insert("nodeSelector".into(), v.clone()),
                None => m.remove("nodeSelector"),
            };
        }
    }
    let old_na = at(old_spec, &["affinity", "nodeAffinity"]).cloned();
    if at(&munged, &["affinity", "nodeAffinity"]).cloned() != old_na
        && let Some(m) = munged.as_object_mut()
    {
        let affinity = m.entry("affinity").or_insert(json!({}));
        if let Some(a) = affinity.as_object_mut() {
            match &old_na {
                Some(v) => a.insert("nodeAffinity".into(), v.clone()),
                None => a.remove("nodeAffinity"),
            };
            if a.is_empty() && at(old_spec, &["affinity"]).is_none() {
                m.remove("affinity");
            }
        }
    }
    munged
}

/// A readable diff of two specs, one line per changed field (upstream prints a
/// `cmp.Diff` of the Go structs, which cannot be reproduced on JSON).
fn spec_diff(old: &Value, new: &Value) -> String {
    let mut lines = Vec::new();
    diff_into(&mut lines, "spec", old, new);
    lines.join("\n")
}

fn diff_into(lines: &mut Vec<String>, path: &str, old: &Value, new: &Value) {
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                let child = format!("{path}.{k}");
                diff_into(lines, &child, a.get(k).unwrap_or(&Value::Null), b.get(k).unwrap_or(&Value::Null));
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                diff_into(lines, &format!("{path}[{i}]"), x, y);
            }
        }
        (a, b) if a != b => {
            if !a.is_null() {
                lines.push(format!("- {path}: {}", render(a)));
            }
            if !b.is_null() {
                lines.push(format!("+ {path}: {}", render(b)));
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qos_classes() {
        assert_eq!(qos_class(&json!({"containers": [{"name": "a"}]})), "BestEffort");
        assert_eq!(qos_class(&json!({"containers": [{"resources": {"requests": {"cpu": "100m"}}}]})), "Burstable");
        let guaranteed = json!({"containers": [{"resources": {
            "limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "1000m", "memory": "1Gi"}}}]});
        assert_eq!(qos_class(&guaranteed), "Guaranteed");
        let mixed = json!({"containers": [
            {"resources": {"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "1", "memory": "1Gi"}}},
            {"name": "b"}]});
        assert_eq!(qos_class(&mixed), "Burstable");
    }

    #[test]
    fn create_sets_status() {
        let mut pod = json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "a", "image": "a"}],
            "schedulingGates": [{"name": "example.com/gate"}]}});
        prepare_for_create(&mut pod);
        assert_eq!(pod["status"]["phase"], "Pending");
        assert_eq!(pod["status"]["qosClass"], "BestEffort");
        assert_eq!(pod["status"]["conditions"][0]["reason"], "SchedulingGated");
        assert_eq!(pod["metadata"]["generation"], 1);
    }

    #[test]
    fn admission_defaults_for_plain_pods() {
        let mut pod = json!({"spec": {"containers": [{"name": "a", "image": "a"}],
            "tolerations": [{"key": "node.kubernetes.io/unreachable", "operator": "Exists"}]}});
        admission_defaults(&mut pod);
        assert_eq!(pod["spec"]["priority"], 0);
        assert_eq!(pod["spec"]["preemptionPolicy"], "PreemptLowerPriority");
        assert_eq!(
            pod["spec"]["tolerations"],
            json!([
                {"key": "node.kubernetes.io/unreachable", "operator": "Exists"},
                {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}
            ])
        );
        let mut critical = json!({"spec": {"priorityClassName": "system-node-critical"}});
        admission_defaults(&mut critical);
        assert_eq!(critical["spec"]["priority"], 2_000_001_000);
        let mut custom = json!({"spec": {"priorityClassName": "high"}});
        admission_defaults(&mut custom);
        assert!(custom["spec"].get("priority").is_none());
    }

    #[test]
    fn update_rules() {
        let old = json!({"metadata": {"name": "p"}, "spec": {
            "containers": [{"name": "a", "image": "a:1", "imagePullPolicy": "IfNotPresent",
                            "terminationMessagePolicy": "File"}],
            "restartPolicy": "Always", "dnsPolicy": "ClusterFirst", "terminationGracePeriodSeconds": 30}});
        let mut new = old.clone();
        new["spec"]["containers"][0]["image"] = json!("a:2");
        new["spec"]["tolerations"] = json!([{"key": "k", "operator": "Exists", "effect": "NoSchedule"}]);
        assert!(validate_update(&new, &old).is_empty());
        new["spec"]["restartPolicy"] = json!("Never");
        let errs = validate_update(&new, &old);
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].field, "spec");
        assert!(errs[0].body.starts_with(
            "Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)\n"
        ));
        assert!(errs[0].body.contains("- spec.restartPolicy: \"Always\"\n+ spec.restartPolicy: \"Never\""));
        let mut fewer = old.clone();
        fewer["spec"]["containers"] = json!([]);
        let errs = validate_update(&fewer, &old);
        assert!(
            errs.iter()
                .any(|e| e.to_string() == "spec.containers: Forbidden: pod updates may not add or remove containers")
        );
    }
}
