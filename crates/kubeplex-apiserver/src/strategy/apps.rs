//! apps/v1 Deployments and ReplicaSets (`pkg/apis/apps/v1/defaults.go`,
//! `pkg/registry/apps/{deployment,replicaset}/strategy.go`,
//! `pkg/apis/apps/validation`).

use kubeplex_core::names::regex_error;
use kubeplex_core::selector::{
    ApiLabelSelector, LabelSelector, LabelSelectorValidationOptions, validate_api_label_selector,
};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::field::{
    Errs, Path, at, child_obj, forbidden, immutable, int_at, invalid_int, invalid_rendered, list_at, nonnegative,
    not_supported, not_supported_json, obj_path, render, render_ordered, required, s, set_default, sort_map,
};
use super::podspec;

/// `SetDefaults_Deployment` plus the template's pod defaults.
pub(crate) fn deployment_defaults(object: &mut Value) {
    let Some(spec) = obj_path(object, &["spec"]) else { return };
    set_default(spec, "replicas", json!(1));
    if let Some(strategy) = child_obj(spec, "strategy") {
        super::field::set_default_str(strategy, "type", "RollingUpdate");
        if strategy.get("type").and_then(Value::as_str) == Some("RollingUpdate")
            && let Some(rolling) = child_obj(strategy, "rollingUpdate")
        {
            set_default(rolling, "maxUnavailable", json!("25%"));
            set_default(rolling, "maxSurge", json!("25%"));
        }
    }
    set_default(spec, "revisionHistoryLimit", json!(10));
    set_default(spec, "progressDeadlineSeconds", json!(600));
    template_defaults(spec);
}

/// `SetDefaults_ReplicaSet` plus the template's pod defaults.
pub(crate) fn replica_set_defaults(object: &mut Value) {
    let Some(spec) = obj_path(object, &["spec"]) else { return };
    set_default(spec, "replicas", json!(1));
    template_defaults(spec);
}

fn template_defaults(spec: &mut Map<String, Value>) {
    if let Some(selector) = spec.get_mut("selector").and_then(Value::as_object_mut) {
        sort_map(selector, "matchLabels");
    }
    if let Some(template) = child_obj(spec, "template") {
        podspec::default_template(template);
        if let Some(meta) = template.get_mut("metadata").and_then(Value::as_object_mut) {
            sort_map(meta, "labels");
            sort_map(meta, "annotations");
        }
    }
}

/// A `metav1.LabelSelector` rendered as Go marshals it.
pub(crate) fn render_selector(selector: Option<&Value>) -> String {
    let Some(selector) = selector else { return "null".to_owned() };
    let mut out = Map::new();
    if let Some(labels) = at(selector, &["matchLabels"]).filter(|l| l.as_object().is_some_and(|m| !m.is_empty())) {
        out.insert("matchLabels".into(), super::field::sorted(labels));
    }
    let exprs = list_at(selector, &["matchExpressions"]);
    if !exprs.is_empty() {
        let exprs = exprs
            .iter()
            .map(|e| {
                let mut m = Map::new();
                m.insert("key".into(), json!(s(e, &["key"])));
                m.insert("operator".into(), json!(s(e, &["operator"])));
                let values = list_at(e, &["values"]);
                if !values.is_empty() {
                    m.insert("values".into(), Value::Array(values.to_vec()));
                }
                Value::Object(m)
            })
            .collect();
        out.insert("matchExpressions".into(), Value::Array(exprs));
    }
    render_ordered(&Value::Object(out))
}

/// The template's labels rendered as Go marshals a `map[string]string`.
pub(crate) fn render_labels(template: Option<&Value>) -> String {
    match template.and_then(|t| at(t, &["metadata", "labels"])) {
        Some(labels) => render(labels),
        None => "null".to_owned(),
    }
}

/// Validates `spec.selector` as `ValidateLabelSelector` and converts it as
/// `LabelSelectorAsSelector`: `Ok(None)` for a nil selector (matches nothing).
pub(crate) fn selector_of(spec: &Value, path: &Path, errs: &mut Errs) -> Result<Option<LabelSelector>, ()> {
    let raw = at(spec, &["selector"]);
    let Some(raw) = raw else { return Ok(None) };
    let parsed = ApiLabelSelector::deserialize(raw).map_err(|_| ())?;
    errs.extend(validate_api_label_selector(Some(&parsed), LabelSelectorValidationOptions::default(), path.as_str()));
    LabelSelector::from_api(Some(&parsed)).map(Some).map_err(|_| ())
}

/// `spec.selector` has neither `matchLabels` nor `matchExpressions`.
pub(crate) fn selector_empty(spec: &Value) -> bool {
    let labels = at(spec, &["selector", "matchLabels"]).and_then(Value::as_object).is_none_or(Map::is_empty);
    labels && list_at(spec, &["selector", "matchExpressions"]).is_empty()
}

/// A controller's required `spec.selector`: `Required value` when absent,
/// else its `ValidateLabelSelector` errors and, with `empty_for` (the kind as
/// the message names it), `empty selector is invalid for <kind>` when empty.
/// Returns the selector as [`selector_of`] converts it.
pub(crate) fn required_selector(
    spec: &Value,
    sel_path: &Path,
    empty_for: Option<&str>,
    errs: &mut Errs,
) -> Result<Option<LabelSelector>, ()> {
    let mut selector_errs = Errs::new();
    let selector = selector_of(spec, sel_path, &mut selector_errs);
    if at(spec, &["selector"]).is_none() {
        errs.push(required(sel_path, ""));
    } else {
        errs.extend(selector_errs);
        if let Some(kind) = empty_for
            && selector_empty(spec)
        {
            errs.push(invalid_rendered(
                sel_path,
                &render_selector(at(spec, &["selector"])),
                &format!("empty selector is invalid for {kind}"),
            ));
        }
    }
    selector
}

/// `spec.template.metadata.labels` must match `selector`.
pub(crate) fn template_labels_match(spec: &Value, selector: &LabelSelector, sp: &Path, errs: &mut Errs) {
    let labels = at(spec, &["template", "metadata", "labels"]).cloned().unwrap_or(Value::Null);
    if !selector.matches(&labels) {
        errs.push(invalid_rendered(
            &sp.child("template.metadata.labels"),
            &render_labels(at(spec, &["template"])),
            "`selector` does not match template `labels`",
        ));
    }
}

/// `ValidatePodTemplateSpecForReplicaSet`.
fn validate_template_for_replica_set(spec: &Value, selector: &LabelSelector, sp: &Path, errs: &mut Errs) {
    let p = &sp.child("template");
    let template = at(spec, &["template"]);
    let Some(template) = template else {
        errs.push(required(p, ""));
        return;
    };
    if !selector.is_empty() {
        template_labels_match(spec, selector, sp, errs);
    }
    errs.extend(podspec::validate_template(template, p));
    controller_template_rules(template, p, "ReplicaSet", errs);
}

/// The checks every controller template shares after its own: `Always` is
/// the only restart policy, no `activeDeadlineSeconds`.
pub(crate) fn controller_template_rules(template: &Value, p: &Path, owner: &str, errs: &mut Errs) {
    let restart = s(template, &["spec", "restartPolicy"]);
    if restart != "Always" {
        errs.push(not_supported(&p.child("spec.restartPolicy"), restart, &["Always"]));
    }
    if at(template, &["spec", "activeDeadlineSeconds"]).is_some() {
        errs.push(forbidden(
            &p.child("spec.activeDeadlineSeconds"),
            &format!("activeDeadlineSeconds in {owner} is not Supported"),
        ));
    }
}

/// The selector part shared by `ValidateDeploymentSpec` and
/// `ValidateReplicaSetSpec`.
fn validate_selector_and_template(spec: &Value, sp: &Path, errs: &mut Errs) {
    let sel_path = sp.child("selector");
    let selector = required_selector(spec, &sel_path, Some("deployment"), errs);
    match selector {
        Ok(selector) => {
            let selector = selector.unwrap_or_else(LabelSelector::nothing);
            validate_template_for_replica_set(spec, &selector, sp, errs);
        }
        Err(()) => {
            errs.push(invalid_rendered(&sel_path, &render_selector(at(spec, &["selector"])), "invalid label selector"))
        }
    }
}

/// An `IntOrString` rendered as Go marshals it.
pub(crate) fn render_int_or_string(v: Option<&Value>) -> String {
    v.map_or_else(|| "0".to_owned(), render)
}

/// The percent of a valid percent string (`IsValidPercent`).
pub(crate) fn percent_value(v: &Value) -> Option<i64> {
    let s = v.as_str()?;
    let digits = s.strip_suffix('%')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// `getIntOrPercentValue`.
pub(crate) fn int_or_percent(v: Option<&Value>) -> i64 {
    match v {
        Some(Value::Number(n)) => n.as_i64().unwrap_or(0),
        Some(s @ Value::String(text)) => percent_value(s).unwrap_or_else(|| text.parse().unwrap_or(0)),
        _ => 0,
    }
}

/// `ValidatePositiveIntOrPercent`.
pub(crate) fn positive_int_or_percent(v: Option<&Value>, p: &Path, errs: &mut Errs) {
    match v {
        Some(Value::String(text)) if percent_value(&json!(text)).is_none() => {
            errs.push(invalid_rendered(
                p,
                &render_int_or_string(v),
                &regex_error(
                    "a valid percent string must be a numeric string followed by an ending '%'",
                    "[0-9]+%",
                    &["1%", "93%"],
                ),
            ));
        }
        Some(Value::Number(n)) => nonnegative(errs, n.as_i64(), p),
        _ => {}
    }
}

/// `IsNotMoreThan100Percent`.
pub(crate) fn not_more_than_100_percent(v: Option<&Value>, p: &Path, errs: &mut Errs) {
    if v.and_then(percent_value).is_some_and(|pct| pct > 100) {
        errs.push(invalid_rendered(p, &render_int_or_string(v), "must not be greater than 100%"));
    }
}

/// `ValidatePositiveIntOrPercent` followed by `IsNotMoreThan100Percent`.
pub(crate) fn positive_percent_at_most_100(v: Option<&Value>, p: &Path, errs: &mut Errs) {
    positive_int_or_percent(v, p, errs);
    not_more_than_100_percent(v, p, errs);
}

/// `ValidateDeploymentStrategy`.
fn validate_strategy(spec: &Value, p: &Path, errs: &mut Errs) {
    let strategy = at(spec, &["strategy"]).cloned().unwrap_or(json!({}));
    match s(&strategy, &["type"]) {
        "Recreate" => {
            if at(&strategy, &["rollingUpdate"]).is_some() {
                errs.push(forbidden(
                    &p.child("rollingUpdate"),
                    "may not be specified when strategy `type` is 'Recreate'",
                ));
            }
        }
        "RollingUpdate" => match at(&strategy, &["rollingUpdate"]) {
            None => errs.push(required(&p.child("rollingUpdate"), "this should be defaulted and never be nil")),
            Some(rolling) => {
                let rp = p.child("rollingUpdate");
                let unavailable = at(rolling, &["maxUnavailable"]);
                let surge = at(rolling, &["maxSurge"]);
                positive_int_or_percent(unavailable, &rp.child("maxUnavailable"), errs);
                positive_int_or_percent(surge, &rp.child("maxSurge"), errs);
                if int_or_percent(unavailable) == 0 && int_or_percent(surge) == 0 {
                    errs.push(invalid_rendered(
                        &rp.child("maxUnavailable"),
                        &render_int_or_string(unavailable),
                        "may not be 0 when `maxSurge` is 0",
                    ));
                }
                not_more_than_100_percent(unavailable, &rp.child("maxUnavailable"), errs);
            }
        },
        other => {
            // The internal DeploymentStrategy has no JSON tags.
            let rolling = at(&strategy, &["rollingUpdate"]).map_or(Value::Null, |r| {
                json!({"MaxUnavailable": at(r, &["maxUnavailable"]).cloned().unwrap_or(json!(0)),
                       "MaxSurge": at(r, &["maxSurge"]).cloned().unwrap_or(json!(0))})
            });
            let _ = other;
            errs.push(not_supported_json(
                p,
                &json!({"Type": s(&strategy, &["type"]), "RollingUpdate": rolling}),
                &["Recreate", "RollingUpdate"],
            ));
        }
    }
}

/// `ValidateDeploymentSpec`.
pub(crate) fn deployment_validate(object: &Value) -> Errs {
    let empty = json!({});
    let spec = at(object, &["spec"]).unwrap_or(&empty);
    let sp = Path::new("spec");
    let mut errs = Errs::new();
    nonnegative(&mut errs, int_at(spec, &["replicas"]), &sp.child("replicas"));
    validate_selector_and_template(spec, &sp, &mut errs);
    validate_strategy(spec, &sp.child("strategy"), &mut errs);
    let min_ready = int_at(spec, &["minReadySeconds"]).unwrap_or(0);
    nonnegative(&mut errs, Some(min_ready), &sp.child("minReadySeconds"));
    nonnegative(&mut errs, int_at(spec, &["revisionHistoryLimit"]), &sp.child("revisionHistoryLimit"));
    if let Some(revision) = int_at(spec, &["rollbackTo", "revision"]) {
        nonnegative(&mut errs, Some(revision), &sp.child("rollback.version"));
    }
    if let Some(deadline) = int_at(spec, &["progressDeadlineSeconds"]) {
        nonnegative(&mut errs, Some(deadline), &sp.child("progressDeadlineSeconds"));
        if deadline <= min_ready {
            errs.push(invalid_int(
                &sp.child("progressDeadlineSeconds"),
                deadline,
                "must be greater than minReadySeconds",
            ));
        }
    }
    errs
}

/// `ValidateReplicaSetSpec`.
pub(crate) fn replica_set_validate(object: &Value) -> Errs {
    let empty = json!({});
    let spec = at(object, &["spec"]).unwrap_or(&empty);
    let sp = Path::new("spec");
    let mut errs = Errs::new();
    nonnegative(&mut errs, int_at(spec, &["replicas"]), &sp.child("replicas"));
    nonnegative(&mut errs, int_at(spec, &["minReadySeconds"]), &sp.child("minReadySeconds"));
    validate_selector_and_template(spec, &sp, &mut errs);
    errs
}

/// The selector may not change (apps/v1): `spec.selector: Invalid value:
/// {...}: field is immutable`.
pub(crate) fn selector_immutable(new: &Value, old: &Value) -> Errs {
    let mut errs = Errs::new();
    let n = at(new, &["spec", "selector"]);
    let o = at(old, &["spec", "selector"]);
    let mut probe = Errs::new();
    immutable(&mut probe, n, o, &Path::new("spec.selector"));
    if !probe.is_empty() {
        errs.push(invalid_rendered(&Path::new("spec.selector"), &render_selector(n), "field is immutable"));
    }
    errs
}

/// Deployments bump `generation` on spec and annotation changes (annotations
/// are copied to their ReplicaSets).
pub(crate) fn deployment_generation(new: &mut Value, old: &Value) {
    let changed = !super::field::semantic_eq(at(new, &["spec"]), at(old, &["spec"]))
        || !super::field::semantic_eq(at(new, &["metadata", "annotations"]), at(old, &["metadata", "annotations"]));
    let old_gen = int_at(old, &["metadata", "generation"]).unwrap_or(0);
    if let Some(meta) = obj_path(new, &["metadata"]) {
        meta.insert("generation".into(), json!(if changed { old_gen + 1 } else { old_gen }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategy::field::msgs;

    fn deployment(spec: Value) -> Value {
        let mut d = json!({"metadata": {"name": "web", "namespace": "default"}, "spec": spec});
        deployment_defaults(&mut d);
        d
    }

    #[test]
    fn defaults_match_kube_apiserver() {
        let d = deployment(json!({
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                         "spec": {"containers": [{"name": "nginx", "image": "nginx"}]}}
        }));
        assert_eq!(
            d["spec"],
            json!({
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {
                        "containers": [{
                            "name": "nginx", "image": "nginx", "imagePullPolicy": "Always",
                            "resources": {},
                            "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File"
                        }],
                        "dnsPolicy": "ClusterFirst", "restartPolicy": "Always", "securityContext": {},
                        "terminationGracePeriodSeconds": 30, "schedulerName": "default-scheduler"
                    }
                },
                "replicas": 1,
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
                "revisionHistoryLimit": 10,
                "progressDeadlineSeconds": 600
            })
        );
        assert!(deployment_validate(&d).is_empty());
    }

    #[test]
    fn selector_rules() {
        let d = deployment(json!({
            "template": {"metadata": {"labels": {"app": "x"}},
                         "spec": {"containers": [{"name": "nginx", "image": "nginx"}]}}
        }));
        assert_eq!(
            msgs(&deployment_validate(&d)),
            [
                "spec.selector: Required value",
                "spec.template.metadata.labels: Invalid value: {\"app\":\"x\"}: `selector` does not match template `labels`",
            ]
        );
        let d = deployment(json!({
            "selector": {"matchLabels": {"app": "web"}}, "replicas": -1,
            "template": {"metadata": {"labels": {"app": "x"}},
                         "spec": {"containers": [{"name": "nginx", "image": "nginx"}]}}
        }));
        assert_eq!(
            msgs(&deployment_validate(&d)),
            [
                "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
                "spec.template.metadata.labels: Invalid value: {\"app\":\"x\"}: `selector` does not match template `labels`",
            ]
        );
        let old = deployment(json!({"selector": {"matchLabels": {"app": "web"}}}));
        let new = deployment(json!({"selector": {"matchLabels": {"app": "web2"}}}));
        assert_eq!(
            msgs(&selector_immutable(&new, &old)),
            ["spec.selector: Invalid value: {\"matchLabels\":{\"app\":\"web2\"}}: field is immutable"]
        );
    }

    #[test]
    fn strategy_rules() {
        let mut d = deployment(json!({
            "selector": {"matchLabels": {"app": "web"}},
            "strategy": {"rollingUpdate": {"maxUnavailable": 0, "maxSurge": "0%"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                         "spec": {"restartPolicy": "Never", "containers": [{"name": "nginx", "image": "nginx"}]}}
        }));
        assert_eq!(
            msgs(&deployment_validate(&d)),
            [
                "spec.template.spec.restartPolicy: Unsupported value: \"Never\": supported values: \"Always\"",
                "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0",
            ]
        );
        d["spec"]["strategy"] = json!({"type": "Foo"});
        d["spec"]["template"]["spec"]["restartPolicy"] = json!("Always");
        assert_eq!(
            msgs(&deployment_validate(&d)),
            [
                r#"spec.strategy: Unsupported value: {"Type":"Foo","RollingUpdate":null}: supported values: "Recreate", "RollingUpdate""#
            ]
        );
    }

    #[test]
    fn replica_sets() {
        let mut rs = json!({"spec": {"selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "a", "image": "a"}]}}}});
        replica_set_defaults(&mut rs);
        assert_eq!(rs["spec"]["replicas"], 1);
        assert!(replica_set_validate(&rs).is_empty());
        rs["spec"]["selector"] = json!({});
        assert_eq!(
            msgs(&replica_set_validate(&rs)),
            ["spec.selector: Invalid value: {}: empty selector is invalid for deployment"]
        );
    }
}
