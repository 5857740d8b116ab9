//! batch/v1 Jobs (`pkg/apis/batch/v1/defaults.go`,
//! `pkg/registry/batch/job/strategy.go`, `pkg/apis/batch/validation`): defaults,
//! the generated selector and pod labels, template and selector immutability.

use serde_json::{Map, Value, json};

use super::apps::{render_labels, render_selector, required_selector, selector_of, template_labels_match};
use super::field::{
    Errs, Path, at, child_obj, immutable, int_at, invalid, invalid_json, invalid_rendered, nonnegative, not_supported,
    obj_path, required, s, set_default, sort_map, too_long,
};
use super::podspec;

const LEGACY_UID: &str = "controller-uid";
const LEGACY_NAME: &str = "job-name";
const UID: &str = "batch.kubernetes.io/controller-uid";
const NAME: &str = "batch.kubernetes.io/job-name";

/// `SetDefaults_Job` plus the template's pod defaults. Returns whether the
/// Job's labels were copied from its template (upstream shares the map, so
/// labels added to the template later show on the Job too).
pub(crate) fn defaults(object: &mut Value) -> bool {
    let Some(spec) = obj_path(object, &["spec"]) else { return false };
    let completions_unset = spec.get("completions").is_none_or(Value::is_null);
    let parallelism_unset = spec.get("parallelism").is_none_or(Value::is_null);
    if completions_unset && parallelism_unset {
        spec.insert("completions".into(), json!(1));
    }
    set_default(spec, "parallelism", json!(1));
    let per_index = spec.get("backoffLimitPerIndex").is_some_and(|v| !v.is_null());
    set_default(spec, "backoffLimit", json!(if per_index { i64::from(i32::MAX) } else { 6 }));
    set_default(spec, "completionMode", json!("NonIndexed"));
    set_default(spec, "suspend", json!(false));
    let has_failure_policy = spec.get("podFailurePolicy").is_some_and(|v| !v.is_null());
    if let Some(policy) = spec.get_mut("podFailurePolicy").and_then(Value::as_object_mut) {
        for rule in super::field::each_obj_mut(policy, "rules") {
            for pattern in super::field::each_obj_mut(rule, "onPodConditions") {
                super::field::set_default_str(pattern, "status", "True");
            }
        }
    }
    set_default(spec, "podReplacementPolicy", json!(if has_failure_policy { "Failed" } else { "TerminatingOrFailed" }));
    set_default(spec, "manualSelector", json!(false));
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
    copy_template_labels(object)
}

/// `SetDefaults_Job`: a Job without labels gets its template's labels.
fn copy_template_labels(object: &mut Value) -> bool {
    let template_labels = at(object, &["spec", "template", "metadata", "labels"]).cloned();
    let own_empty = at(object, &["metadata", "labels"]).and_then(Value::as_object).is_none_or(Map::is_empty);
    if let Some(labels) = template_labels
        && own_empty
        && let Some(meta) = obj_path(object, &["metadata"])
    {
        meta.insert("labels".into(), labels);
        return true;
    }
    false
}

fn manual_selector(object: &Value) -> bool {
    at(object, &["spec", "manualSelector"]).and_then(Value::as_bool) == Some(true)
}

/// `PrepareForCreate`: `generateSelector`, then the status cleared and
/// generation 1. Unless `manualSelector` (defaulted to false) is true, the
/// template gets `batch.kubernetes.io/controller-uid`,
/// `batch.kubernetes.io/job-name`, `controller-uid` and `job-name` labels and
/// the selector matches `batch.kubernetes.io/controller-uid`. The uid must
/// already be set; `labels_from_template` is what [`defaults`] returned.
pub(crate) fn prepare_for_create(object: &mut Value, labels_from_template: bool) {
    if let Some(obj) = object.as_object_mut() {
        obj.insert("status".into(), json!({}));
    }
    if let Some(meta) = obj_path(object, &["metadata"]) {
        meta.insert("generation".into(), json!(1));
    }
    if !manual_selector(object) {
        generate_selector(object, labels_from_template);
    }
}

fn generate_selector(object: &mut Value, labels_from_template: bool) {
    let name = s(object, &["metadata", "name"]).to_owned();
    let uid = s(object, &["metadata", "uid"]).to_owned();
    if let Some(labels) = obj_path(object, &["spec", "template", "metadata", "labels"]) {
        for key in [LEGACY_NAME, NAME] {
            labels.entry(key).or_insert_with(|| json!(name));
        }
        for key in [LEGACY_UID, UID] {
            labels.entry(key).or_insert_with(|| json!(uid));
        }
    }
    if let Some(template_meta) = obj_path(object, &["spec", "template", "metadata"]) {
        sort_map(template_meta, "labels");
    }
    if let Some(match_labels) = obj_path(object, &["spec", "selector", "matchLabels"]) {
        match_labels.entry(UID).or_insert_with(|| json!(uid));
    }
    if let Some(selector) = obj_path(object, &["spec", "selector"]) {
        sort_map(selector, "matchLabels");
    }
    if labels_from_template
        && let Some(labels) = at(object, &["spec", "template", "metadata", "labels"]).cloned()
        && let Some(meta) = obj_path(object, &["metadata"])
    {
        meta.insert("labels".into(), labels);
    } else {
        copy_template_labels(object);
    }
}

/// Options of `ValidateJob` that depend on the stored object.
#[derive(Clone, Copy, Debug)]
pub(crate) struct JobOpts {
    /// The `batch.kubernetes.io/` labels must be there (always on create; on
    /// update only if the stored template has them).
    pub require_prefixed_labels: bool,
}

/// `ValidateHasLabel`.
fn has_label(template: &Value, p: &Path, key: &str, expected: &str, errs: &mut Errs) {
    let lp = p.child("labels").key(key);
    match at(template, &["metadata", "labels", key]).and_then(Value::as_str) {
        None => errs.push(required(&lp, &format!("must be '{expected}'"))),
        Some(actual) if actual != expected => {
            errs.push(invalid_rendered(&lp, &render_labels(Some(template)), &format!("must be '{expected}'")))
        }
        Some(_) => {}
    }
}

/// `validateGeneratedSelector`.
fn validate_generated_selector(object: &Value, opts: JobOpts, errs: &mut Errs) {
    if manual_selector(object) || at(object, &["spec", "selector"]).is_none() {
        return;
    }
    let uid = s(object, &["metadata", "uid"]);
    let name = s(object, &["metadata", "name"]);
    if uid.is_empty() {
        errs.push(required(&Path::new("metadata.uid"), ""));
    }
    let empty = json!({});
    let template = at(object, &["spec", "template"]).unwrap_or(&empty);
    let tp = Path::new("spec.template.metadata");
    has_label(template, &tp, LEGACY_UID, uid, errs);
    has_label(template, &tp, LEGACY_NAME, name, errs);
    let mut expected = Map::new();
    if opts.require_prefixed_labels {
        has_label(template, &tp, UID, uid, errs);
        has_label(template, &tp, NAME, name, errs);
        expected.insert(UID.into(), json!(uid));
        expected.insert(NAME.into(), json!(name));
    }
    expected.insert(LEGACY_UID.into(), json!(uid));
    expected.insert(LEGACY_NAME.into(), json!(name));
    let mut ignored = Errs::new();
    if let Ok(Some(selector)) = selector_of(&object["spec"], &Path::new("spec.selector"), &mut ignored)
        && !selector.matches(&expected)
    {
        errs.push(invalid_rendered(
            &Path::new("spec.selector"),
            &render_selector(at(object, &["spec", "selector"])),
            "`selector` not auto-generated",
        ));
    }
}

/// `ValidateJob` beyond metadata.
pub(crate) fn validate(object: &Value, opts: JobOpts) -> Errs {
    let mut errs = Errs::new();
    validate_generated_selector(object, opts, &mut errs);
    errs.extend(validate_spec(object));
    let completions = int_at(object, &["spec", "completions"]);
    if s(object, &["spec", "completionMode"]) == "Indexed"
        && let Some(c) = completions.filter(|c| *c > 0)
    {
        let name = s(object, &["metadata", "name"]);
        let hostname = format!("{name}-{}", c - 1);
        if !kubeplex_core::names::is_dns1123_label(&hostname).is_empty() {
            errs.push(invalid(
                &Path::new("metadata.name"),
                name,
                &format!("will not able to create pod with invalid DNS label: {hostname}"),
            ));
        }
    }
    errs
}

/// `ValidateJobSpec`.
fn validate_spec(object: &Value) -> Errs {
    let empty = json!({});
    let spec = at(object, &["spec"]).unwrap_or(&empty);
    let sp = Path::new("spec");
    let mut errs = Errs::new();
    for field in [
        "parallelism",
        "completions",
        "activeDeadlineSeconds",
        "backoffLimit",
        "ttlSecondsAfterFinished",
        "backoffLimitPerIndex",
    ] {
        nonnegative(&mut errs, int_at(spec, &[field]), &sp.child(field));
    }
    let per_index = int_at(spec, &["backoffLimitPerIndex"]);
    let max_failed = int_at(spec, &["maxFailedIndexes"]);
    if max_failed.is_some() {
        nonnegative(&mut errs, max_failed, &sp.child("maxFailedIndexes"));
        if per_index.is_none() {
            errs.push(required(&sp.child("backoffLimitPerIndex"), "when maxFailedIndexes is specified"));
        }
    }
    if let Some(managed_by) = at(spec, &["managedBy"]).and_then(Value::as_str)
        && managed_by.len() > 63
    {
        errs.push(too_long(&sp.child("managedBy"), 63));
    }
    let mode = at(spec, &["completionMode"]).and_then(Value::as_str);
    if let Some(mode) = mode {
        if mode != "NonIndexed" && mode != "Indexed" {
            errs.push(not_supported(&sp.child("completionMode"), mode, &["NonIndexed", "Indexed"]));
        }
        if mode == "Indexed" {
            let completions = int_at(spec, &["completions"]);
            if completions.is_none() {
                errs.push(required(&sp.child("completions"), "when completion mode is Indexed"));
            }
            if let Some(p) = int_at(spec, &["parallelism"])
                && p > 100_000
            {
                errs.push(super::field::invalid_int(
                    &sp.child("parallelism"),
                    p,
                    "must be less than or equal to 100000 when completion mode is Indexed",
                ));
            }
            if let (Some(c), Some(m)) = (completions, max_failed)
                && m > c
            {
                errs.push(super::field::invalid_int(
                    &sp.child("maxFailedIndexes"),
                    m,
                    "must be less than or equal to completions",
                ));
            }
        }
    }
    if mode.is_none_or(|m| m == "NonIndexed") {
        if let Some(v) = per_index {
            errs.push(super::field::invalid_int(
                &sp.child("backoffLimitPerIndex"),
                v,
                "requires indexed completion mode",
            ));
        }
        if let Some(v) = max_failed {
            errs.push(super::field::invalid_int(&sp.child("maxFailedIndexes"), v, "requires indexed completion mode"));
        }
    }
    let has_failure_policy = at(spec, &["podFailurePolicy"]).is_some();
    if let Some(success) = at(spec, &["successPolicy"])
        && mode != Some("Indexed")
    {
        errs.push(invalid_json(&sp.child("successPolicy"), success, "requires indexed completion mode"));
    }
    if let Some(policy) = at(spec, &["podReplacementPolicy"]).and_then(Value::as_str) {
        if has_failure_policy {
            if policy != "Failed" {
                errs.push(not_supported(&sp.child("podReplacementPolicy"), policy, &["Failed"]));
            }
        } else if policy != "Failed" && policy != "TerminatingOrFailed" {
            errs.push(not_supported(&sp.child("podReplacementPolicy"), policy, &["Failed", "TerminatingOrFailed"]));
        }
    }
    errs.extend(podspec::validate_template(at(spec, &["template"]).unwrap_or(&empty), &sp.child("template")));
    let restart = s(spec, &["template", "spec", "restartPolicy"]);
    let rp = sp.child("template.spec.restartPolicy");
    match restart {
        "Always" | "" => errs.push(required(&rp, "valid values: \"OnFailure\", \"Never\"")),
        "OnFailure" | "Never" => {
            if has_failure_policy && restart != "Never" {
                errs.push(invalid(&rp, restart, "only \"Never\" is supported when podFailurePolicy is specified"));
            }
        }
        other => errs.push(not_supported(&rp, other, &["OnFailure", "Never"])),
    }
    // Selector: required, valid, matching the template.
    if let Ok(selector) = required_selector(spec, &sp.child("selector"), None, &mut errs) {
        let selector = selector.unwrap_or_else(kubeplex_core::selector::LabelSelector::nothing);
        template_labels_match(spec, &selector, &sp, &mut errs);
    }
    errs
}

/// Options for validating an update of `old`.
pub(crate) fn update_opts(old: &Value) -> JobOpts {
    let labels = at(old, &["spec", "template", "metadata", "labels"]);
    let has = |k: &str| labels.and_then(|l| l.get(k)).is_some();
    JobOpts { require_prefixed_labels: has(NAME) && has(UID) }
}

/// `ValidateJobSpecUpdate` (the spec part of `ValidateJobUpdate`).
pub(crate) fn validate_update(new: &Value, old: &Value) -> Errs {
    let mut errs = validate_spec(new);
    let empty = json!({});
    let ns = at(new, &["spec"]).unwrap_or(&empty);
    let os = at(old, &["spec"]).unwrap_or(&empty);
    let sp = Path::new("spec");
    // Completions: only Indexed Jobs may change them, in step with parallelism.
    let new_completions = at(ns, &["completions"]);
    if s(ns, &["completionMode"]) != "Indexed" {
        immutable(&mut errs, new_completions, at(os, &["completions"]), &sp.child("completions"));
    } else if !super::field::semantic_eq(new_completions, at(os, &["completions"]))
        && let Some(c) = new_completions
        && Some(c) != at(ns, &["parallelism"])
    {
        errs.push(invalid_json(&sp.child("completions"), c, "can only be modified in tandem with spec.parallelism"));
    }
    let mut selector_changed = Errs::new();
    immutable(&mut selector_changed, at(ns, &["selector"]), at(os, &["selector"]), &sp.child("selector"));
    if !selector_changed.is_empty() {
        errs.push(invalid_rendered(
            &sp.child("selector"),
            &render_selector(at(ns, &["selector"])),
            "field is immutable",
        ));
    }
    validate_template_update(new, old, &mut errs);
    for field in ["completionMode", "podFailurePolicy", "backoffLimitPerIndex", "managedBy", "successPolicy"] {
        immutable(&mut errs, at(ns, &[field]), at(os, &[field]), &sp.child(field));
    }
    errs
}

/// `validatePodTemplateUpdate`: the template is immutable, except that a
/// suspended Job that never started may change its scheduling directives
/// (node affinity, node selector, tolerations, labels, annotations, scheduling
/// gates).
fn validate_template_update(new: &Value, old: &Value, errs: &mut Errs) {
    let empty = json!({});
    let template = at(new, &["spec", "template"]).unwrap_or(&empty);
    let mut old_template = at(old, &["spec", "template"]).unwrap_or(&empty).clone();
    let suspended = at(old, &["spec", "suspend"]).and_then(Value::as_bool) == Some(true);
    let started = at(old, &["status", "startTime"]).is_some();
    if suspended && !started {
        let copy = |ot: &mut Value, path: &[&str]| {
            let new_value = at(template, path).cloned();
            let (last, parents) = path.split_last().unwrap_or((&"", &[]));
            if let Some(parent) = obj_path(ot, parents) {
                match new_value {
                    Some(v) => parent.insert((*last).to_owned(), v),
                    None => parent.remove(*last),
                };
            }
        };
        copy(&mut old_template, &["metadata", "labels"]);
        copy(&mut old_template, &["metadata", "annotations"]);
        copy(&mut old_template, &["spec", "nodeSelector"]);
        copy(&mut old_template, &["spec", "tolerations"]);
        copy(&mut old_template, &["spec", "schedulingGates"]);
        let new_affinity = at(template, &["spec", "affinity"]);
        let old_affinity = at(&old_template, &["spec", "affinity"]).cloned();
        match (new_affinity, old_affinity) {
            (None, Some(mut oa)) => {
                if let Some(m) = oa.as_object_mut() {
                    m.remove("nodeAffinity");
                }
                if oa.as_object().is_some_and(Map::is_empty) {
                    if let Some(spec) = obj_path(&mut old_template, &["spec"]) {
                        spec.remove("affinity");
                    }
                } else if let Some(spec) = obj_path(&mut old_template, &["spec"]) {
                    spec.insert("affinity".into(), oa);
                }
            }
            (Some(na), None) => {
                if let Some(spec) = obj_path(&mut old_template, &["spec"]) {
                    let mut a = Map::new();
                    if let Some(node) = at(na, &["nodeAffinity"]) {
                        a.insert("nodeAffinity".into(), node.clone());
                    }
                    spec.insert("affinity".into(), Value::Object(a));
                }
            }
            (Some(_), Some(_)) => copy(&mut old_template, &["spec", "affinity", "nodeAffinity"]),
            (None, None) => {}
        }
    }
    immutable(errs, Some(template), Some(&old_template), &Path::new("spec.template"));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategy::field::msgs;

    fn new_job(spec: Value) -> Value {
        let mut job = json!({"metadata": {"name": "pi", "namespace": "default", "uid": "u-1"}, "spec": spec});
        let copied = defaults(&mut job);
        prepare_for_create(&mut job, copied);
        job
    }

    #[test]
    fn defaults_and_generated_selector() {
        let job = new_job(json!({"template": {"spec": {"restartPolicy": "Never",
            "containers": [{"name": "pi", "image": "perl:5.34"}]}}}));
        assert_eq!(job["spec"]["completions"], 1);
        assert_eq!(job["spec"]["parallelism"], 1);
        assert_eq!(job["spec"]["backoffLimit"], 6);
        assert_eq!(job["spec"]["completionMode"], "NonIndexed");
        assert_eq!(job["spec"]["suspend"], false);
        assert_eq!(job["spec"]["podReplacementPolicy"], "TerminatingOrFailed");
        assert_eq!(job["spec"]["manualSelector"], false);
        assert_eq!(job["spec"]["selector"], json!({"matchLabels": {"batch.kubernetes.io/controller-uid": "u-1"}}));
        let labels = json!({
            "batch.kubernetes.io/controller-uid": "u-1", "batch.kubernetes.io/job-name": "pi",
            "controller-uid": "u-1", "job-name": "pi"
        });
        assert_eq!(job["spec"]["template"]["metadata"]["labels"], labels);
        assert_eq!(job["metadata"]["labels"], labels);
        assert_eq!(job["status"], json!({}));
        assert!(validate(&job, JobOpts { require_prefixed_labels: true }).is_empty());
    }

    #[test]
    fn restart_policy_and_selector() {
        let job = new_job(json!({"template": {"spec": {"containers": [{"name": "pi", "image": "perl"}]}}}));
        assert_eq!(
            msgs(&validate(&job, JobOpts { require_prefixed_labels: true })),
            ["spec.template.spec.restartPolicy: Required value: valid values: \"OnFailure\", \"Never\""]
        );
        let mut manual = json!({"metadata": {"name": "m", "uid": "u"}, "spec": {"manualSelector": true,
            "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"restartPolicy": "Never",
            "containers": [{"name": "c", "image": "c"}]}}}});
        let copied = defaults(&mut manual);
        prepare_for_create(&mut manual, copied);
        assert_eq!(
            msgs(&validate(&manual, JobOpts { require_prefixed_labels: true })),
            [
                "spec.selector: Required value",
                "spec.template.metadata.labels: Invalid value: {\"a\":\"b\"}: `selector` does not match template `labels`",
            ]
        );
    }

    #[test]
    fn template_is_immutable() {
        let old = new_job(json!({"template": {"spec": {"restartPolicy": "Never",
            "containers": [{"name": "pi", "image": "perl:5.34"}]}}}));
        let mut new = old.clone();
        new["spec"]["template"]["spec"]["containers"][0]["image"] = json!("perl:5.36");
        let errs = validate_update(&new, &old);
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].field, "spec.template");
        assert!(errs[0].body.ends_with(": field is immutable"));
        let mut parallel = old.clone();
        parallel["spec"]["parallelism"] = json!(3);
        assert!(validate_update(&parallel, &old).is_empty());
        let mut completions = old.clone();
        completions["spec"]["completions"] = json!(3);
        assert_eq!(
            msgs(&validate_update(&completions, &old)),
            ["spec.completions: Invalid value: 3: field is immutable"]
        );
    }
}
