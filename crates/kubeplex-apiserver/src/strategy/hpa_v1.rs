//! autoscaling/v1 HorizontalPodAutoscalers: one storage with autoscaling/v2
//! (the stored form), converted both ways as kube-apiserver converts v1 to
//! and from its internal version (`pkg/apis/autoscaling/v1/conversion.go`),
//! and the v1 strategy, which is the v2 one run on the converted object.
//!
//! ```text
//!  v1 spec.targetCPUUtilizationPercentage  ⇔ v2 spec.metrics[]: Resource cpu, Utilization target
//!  v1 status.currentCPUUtilizationPercentage ⇐ v2 status.currentMetrics[]: Resource cpu utilization
//!  what v1 cannot express travels in annotations:
//!    autoscaling.alpha.kubernetes.io/metrics          the other metrics (v1 MetricSpec JSON)
//!    autoscaling.alpha.kubernetes.io/current-metrics  all current metrics (v1 MetricStatus JSON)
//!    autoscaling.alpha.kubernetes.io/behavior         spec.behavior (internal Go field names)
//!    autoscaling.alpha.kubernetes.io/conditions       status.conditions
//! ```
//!
//! Upstream quirks kept: the CPU utilization metric comes back after the
//! other metrics, only the first such metric survives, a v1 object without
//! any metric gets 80% CPU, and the v1 metric shapes have non-pointer
//! quantities (`targetValue`, `currentAverageValue`, ...) that read back as
//! `"0"` when v2 left them unset. The round-trip annotations never reach
//! storage (v1 requests consume them, upstream's v2 conversion drops them);
//! one that does not parse is dropped too (upstream fails the decode).
//!
//! Strategy: a v1 object gets the v1 defaults (`minReplicas: 1`), is
//! converted to v2 and goes through the v2 defaults, resets and validation,
//! as upstream runs its strategy on the internal object. Validation errors
//! therefore name the v2/internal paths (`spec.metrics[0].resource.target.
//! averageUtilization`) exactly as kube-apiserver reports them to v1 clients.

use std::borrow::Cow;

use kubeplex_api_facts::{ApiFacts, SpecialType, TypeRef};
use kubeplex_core::resource::ResourceDef;
use kubeplex_core::status::ApiError;
use serde_json::{Map, Value, json};

use super::field::{render_ordered, sort_map};
use super::gojson::internal_json;

/// `autoscaling.MetricSpecsAnnotation`.
pub const METRICS_ANNOTATION: &str = "autoscaling.alpha.kubernetes.io/metrics";
/// `autoscaling.MetricStatusesAnnotation`.
pub const CURRENT_METRICS_ANNOTATION: &str = "autoscaling.alpha.kubernetes.io/current-metrics";
/// `autoscaling.BehaviorSpecsAnnotation`.
pub const BEHAVIOR_ANNOTATION: &str = "autoscaling.alpha.kubernetes.io/behavior";
/// `autoscaling.HorizontalPodAutoscalerConditionsAnnotation`.
pub const CONDITIONS_ANNOTATION: &str = "autoscaling.alpha.kubernetes.io/conditions";
/// What `DropRoundTripHorizontalPodAutoscalerAnnotations` removes (the two
/// tolerance annotations are v2beta2's).
const ROUND_TRIP: [&str; 6] = [
    METRICS_ANNOTATION,
    CURRENT_METRICS_ANNOTATION,
    BEHAVIOR_ANNOTATION,
    CONDITIONS_ANNOTATION,
    "autoscaling.alpha.kubernetes.io/scale-down-tolerance",
    "autoscaling.alpha.kubernetes.io/scale-up-tolerance",
];
/// `autoscaling.DefaultCPUUtilization`.
const DEFAULT_CPU_UTILIZATION: i64 = 80;

const V1: &str = "io.k8s.api.autoscaling.v1.";
const V2: &str = "io.k8s.api.autoscaling.v2.";

/// Whether `def` is autoscaling/v1 HorizontalPodAutoscalers.
pub fn is_v1(def: &ResourceDef) -> bool {
    def.custom.is_none()
        && &*def.group == "autoscaling"
        && &*def.kind == "HorizontalPodAutoscaler"
        && &*def.version == "v1"
}

// ------------------------------------------------------------ conversion

fn present<'a>(obj: &'a Value, key: &str) -> Option<&'a Value> {
    obj.get(key).filter(|v| !v.is_null())
}

fn present_list<'a>(obj: &'a Value, key: &str) -> &'a [Value] {
    obj.get(key).and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

/// Builds an object from the `(key, value)` pairs whose value is not null.
fn object(pairs: impl IntoIterator<Item = (&'static str, Option<Value>)>) -> Value {
    Value::Object(
        pairs.into_iter().filter_map(|(k, v)| v.filter(|v| !v.is_null()).map(|v| (k.to_owned(), v))).collect(),
    )
}

fn take(obj: &Value, key: &str) -> Option<Value> {
    present(obj, key).cloned()
}

fn is_cpu_resource(metric: &Value) -> Option<&Value> {
    let resource = present(metric, "resource")?;
    (metric.get("type").and_then(Value::as_str) == Some("Resource")
        && resource.get("name").and_then(Value::as_str) == Some("cpu"))
    .then_some(resource)
}

/// `MetricSpec` (a `target` value) or `MetricStatus` (a `current` one).
#[derive(Clone, Copy, PartialEq)]
enum Part {
    Spec,
    Status,
}

impl Part {
    fn go_type(self) -> &'static str {
        if self == Part::Spec { "MetricSpec" } else { "MetricStatus" }
    }

    /// The v2 value field, which is also the prefix of v1's value fields.
    fn value_key(self) -> &'static str {
        if self == Part::Spec { "target" } else { "current" }
    }

    /// A v1 field's name: `*` stands for the value field.
    fn v1_name(self, name: &str) -> String {
        name.strip_prefix('*').map_or_else(|| name.to_owned(), |rest| format!("{}{rest}", self.value_key()))
    }

    /// A v1 field's value: a non-pointer quantity is `"0"` when unset.
    fn v1_value(self, zero: Zero, found: Option<&Value>) -> Option<Value> {
        let found = found.filter(|v| !v.is_null()).cloned();
        if zero == Zero::Always || zero == Zero::InStatus && self == Part::Status {
            Some(found.unwrap_or_else(|| json!("0")))
        } else {
            found
        }
    }
}

/// Where the v2 metric source keeps a field of the v1 one.
#[derive(Clone, Copy)]
enum At {
    /// In the source itself.
    Source(&'static str),
    /// In its `metric` identifier.
    Metric(&'static str),
    /// In its `target` (spec) or `current` (status) value.
    Value(&'static str),
}

/// Whether a v1 field is a non-pointer quantity, `"0"` when unset.
#[derive(Clone, Copy, PartialEq)]
enum Zero {
    Never,
    InStatus,
    Always,
}

/// A field of a v1 metric source: its name (`*` for `target` or `current`),
/// where v2 keeps it and when it is a non-pointer quantity.
type Field = (&'static str, At, Zero);

/// A metric source (`object`, `pods`, ...), its v1 fields, and the v2 target
/// types of a spec: the first whose field is set, else the last.
type Source = (&'static str, &'static [Field], &'static [&'static str]);

const RESOURCE: &[Field] = &[
    ("name", At::Source("name"), Zero::Never),
    ("*AverageUtilization", At::Value("averageUtilization"), Zero::Never),
    ("*AverageValue", At::Value("averageValue"), Zero::InStatus),
    ("container", At::Source("container"), Zero::Never),
];

/// The metric sources of v1 (v2beta1-shaped) and v2 metrics, spec and status
/// alike, in the order conversion tries them.
const SOURCES: [Source; 5] = [
    (
        "object",
        &[
            ("target", At::Source("describedObject"), Zero::Never),
            ("metricName", At::Metric("name"), Zero::Never),
            ("*Value", At::Value("value"), Zero::Always),
            ("selector", At::Metric("selector"), Zero::Never),
            ("averageValue", At::Value("averageValue"), Zero::Never),
        ],
        &["AverageValue", "Value"],
    ),
    (
        "pods",
        &[
            ("metricName", At::Metric("name"), Zero::Never),
            ("*AverageValue", At::Value("averageValue"), Zero::Always),
            ("selector", At::Metric("selector"), Zero::Never),
        ],
        &["AverageValue"],
    ),
    ("resource", RESOURCE, &["Utilization", "AverageValue"]),
    ("containerResource", RESOURCE, &["Utilization", "AverageValue"]),
    (
        "external",
        &[
            ("metricName", At::Metric("name"), Zero::Never),
            ("metricSelector", At::Metric("selector"), Zero::Never),
            ("*Value", At::Value("value"), Zero::InStatus),
            ("*AverageValue", At::Value("averageValue"), Zero::Never),
        ],
        &["Value", "AverageValue"],
    ),
];

/// The v2 `MetricTarget` field a target type is about.
fn target_field(kind: &str) -> &'static str {
    match kind {
        "Value" => "value",
        "AverageValue" => "averageValue",
        _ => "averageUtilization",
    }
}

/// Converts one metric: the first source set, its fields moved by
/// `convert`, the rest of the metric (but `type`) dropped.
fn convert_metric(
    metric: &Value,
    part: Part,
    version: &str,
    convert: impl Fn(&Value, &'static [Field], &[&str]) -> Map<String, Value>,
) -> Value {
    let mut out = object([("type", take(metric, "type"))]);
    let found = SOURCES.iter().find_map(|&(key, fields, types)| present(metric, key).map(|s| (key, s, fields, types)));
    if let (Some((key, s, fields, types)), Some(map)) = (found, out.as_object_mut()) {
        map.insert(key.into(), Value::Object(convert(s, fields, types)));
    }
    go_shaped(&out, &format!("{version}{}", part.go_type()))
}

/// A v2 `MetricSpec` or `MetricStatus` as v1's (v2beta1-shaped) one.
fn metric_to_v1(metric: &Value, part: Part) -> Value {
    convert_metric(metric, part, V1, |s, fields, _| {
        let mut out = Map::new();
        for &(name, at, zero) in fields {
            let found = match at {
                At::Source(key) => s.get(key),
                At::Metric(key) => present(s, "metric").and_then(|m| m.get(key)),
                At::Value(key) => s.get(part.value_key()).and_then(|v| v.get(key)),
            };
            if let Some(v) = part.v1_value(zero, found) {
                out.insert(part.v1_name(name), v);
            }
        }
        out
    })
}

/// A v1 `MetricSpec` or `MetricStatus` (from an annotation) as v2's.
fn metric_to_v2(metric: &Value, part: Part) -> Value {
    convert_metric(metric, part, V2, |s, fields, types| {
        let (mut out, mut metric, mut value) = (Map::new(), Map::new(), Map::new());
        for &(name, at, zero) in fields {
            let (map, key) = match at {
                At::Source(key) => (&mut out, key),
                At::Metric(key) => (&mut metric, key),
                At::Value(key) => (&mut value, key),
            };
            if let Some(v) = part.v1_value(zero, s.get(part.v1_name(name))) {
                map.insert(key.into(), v);
            }
        }
        if let (Part::Spec, Some(last)) = (part, types.last()) {
            let kind = types.iter().find(|t| value.contains_key(target_field(t))).unwrap_or(last);
            value.insert("type".into(), json!(kind));
        }
        if fields.iter().any(|(_, at, _)| matches!(at, At::Metric(_))) {
            out.insert("metric".into(), Value::Object(metric));
        }
        out.insert(part.value_key().into(), Value::Object(value));
        out
    })
}

/// `spec.behavior` as the annotation holds it: `json.Marshal` of the
/// internal type (Go field names, nil pointers as `null`).
fn behavior_annotation(behavior: &Value) -> String {
    let mut internal = internal_json(Some(behavior), &format!("{V2}HorizontalPodAutoscalerBehavior"));
    // `Tolerance` is a pointer: unset is null, not the zero quantity.
    for (go, json_name) in [("ScaleUp", "scaleUp"), ("ScaleDown", "scaleDown")] {
        let given = behavior.get(json_name).and_then(|r| present(r, "tolerance"));
        if let Some(rules) = internal.get_mut(go).and_then(Value::as_object_mut)
            && given.is_none()
            && rules.contains_key("Tolerance")
        {
            rules.insert("Tolerance".into(), Value::Null);
        }
    }
    render_ordered(&internal)
}

/// Reads JSON written with Go field names (matched case-insensitively, as
/// `encoding/json` does) back into the JSON names of the type `type_name`.
fn from_go_names(value: &Value, ty: &TypeRef, facts: &ApiFacts) -> Option<Value> {
    if value.is_null() {
        return None;
    }
    match ty.resolved() {
        TypeRef::Named(name) => {
            let Some(facts_ty) = facts.type_by_name(name) else { return Some(value.clone()) };
            let input = value.as_object()?;
            let mut out = Map::new();
            for field in facts_ty.json_fields() {
                let Some(json_name) = field.json.as_deref() else { continue };
                let found = input
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(&field.go) || k.eq_ignore_ascii_case(json_name))
                    .and_then(|(_, v)| from_go_names(v, &field.ty, facts));
                if let Some(v) = found {
                    out.insert(json_name.to_owned(), v);
                }
            }
            Some(Value::Object(out))
        }
        TypeRef::List(elem) => {
            Some(Value::Array(value.as_array()?.iter().filter_map(|v| from_go_names(v, elem, facts)).collect()))
        }
        _ => Some(value.clone()),
    }
}

/// A value of the type `type_name` as Go's `json.Marshal` writes it: fields
/// in Go order, zero values of fields without `omitempty`, zero values of
/// `omitempty` ones and unknown fields left out.
fn go_shaped(value: &Value, type_name: &str) -> Value {
    let facts = kubeplex_api_facts::facts();
    shaped(value, &TypeRef::Named(type_name.to_owned()), facts)
}

fn shaped(value: &Value, ty: &TypeRef, facts: &ApiFacts) -> Value {
    match (ty.resolved(), value) {
        (TypeRef::Named(name), Value::Object(input)) => {
            let Some(facts_ty) = facts.type_by_name(name) else { return value.clone() };
            let mut out = Map::new();
            for field in facts_ty.json_fields() {
                let Some(key) = field.json.as_deref() else { continue };
                match input.get(key).filter(|v| !v.is_null()) {
                    Some(v) if field.omitempty && !field.pointer && is_zero(v) => {}
                    Some(v) => {
                        out.insert(key.to_owned(), shaped(v, &field.ty, facts));
                    }
                    // `omitempty` never leaves out structs (a zero `metav1.Time` is null).
                    None if field.pointer
                        || field.omitempty
                            && field.ty.struct_name().is_none()
                            && !matches!(field.ty.special(), Some(SpecialType::Time | SpecialType::MicroTime)) => {}
                    None => {
                        let zero = match field.ty.resolved() {
                            TypeRef::Named(_) => shaped(&json!({}), &field.ty, facts),
                            TypeRef::Primitive(_) => match field.ty.primitive().map(|p| p.go_name()) {
                                Some("string") => json!(""),
                                Some("bool") => json!(false),
                                _ => json!(0),
                            },
                            TypeRef::Special { .. } => match field.ty.special() {
                                Some(SpecialType::Quantity) => json!("0"),
                                _ => Value::Null,
                            },
                            _ => Value::Null,
                        };
                        out.insert(key.to_owned(), zero);
                    }
                }
            }
            Value::Object(out)
        }
        (TypeRef::List(elem), Value::Array(items)) => {
            Value::Array(items.iter().map(|item| shaped(item, elem, facts)).collect())
        }
        _ => value.clone(),
    }
}

fn is_zero(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(_) => false,
    }
}

/// Parses a JSON annotation value.
fn parse_annotation(annotations: &Map<String, Value>, key: &str) -> Option<Value> {
    annotations.get(key).and_then(Value::as_str).and_then(|text| serde_json::from_str(text).ok())
}

/// The spec and status fields v1 and v2 share.
const SPEC_FIELDS: [&str; 3] = ["scaleTargetRef", "minReplicas", "maxReplicas"];
const STATUS_FIELDS: [&str; 4] = ["observedGeneration", "lastScaleTime", "currentReplicas", "desiredReplicas"];

/// The shared `keys` of `from`, then the version's own fields.
fn carried(from: &Value, keys: &[&'static str], own: impl IntoIterator<Item = (&'static str, Option<Value>)>) -> Value {
    object(keys.iter().map(|&k| (k, take(from, k))).chain(own))
}

fn remove_round_trip(annotations: &mut Map<String, Value>) {
    for key in ROUND_TRIP {
        annotations.shift_remove(key);
    }
}

/// `input` in the other version: `apiVersion` set, the annotations replaced
/// (left out when empty, sorted in v1), then `spec` and `status` put last.
fn convert_object(
    input: &Map<String, Value>,
    to_v1: bool,
    annotations: Map<String, Value>,
    spec: Value,
    status: Value,
) -> Value {
    let (api_version, prefix) = if to_v1 { ("autoscaling/v1", V1) } else { ("autoscaling/v2", V2) };
    let mut out = Map::new();
    for (key, value) in input {
        let value = match key.as_str() {
            "apiVersion" => json!(api_version),
            "metadata" => {
                let mut meta = value.clone();
                if let Some(meta) = meta.as_object_mut() {
                    if annotations.is_empty() {
                        meta.shift_remove("annotations");
                    } else {
                        meta.insert("annotations".into(), Value::Object(annotations.clone()));
                        if to_v1 {
                            sort_map(meta, "annotations");
                        }
                    }
                }
                meta
            }
            "spec" | "status" => continue,
            _ => value.clone(),
        };
        out.insert(key.clone(), value);
    }
    out.insert("spec".into(), go_shaped(&spec, &format!("{prefix}HorizontalPodAutoscalerSpec")));
    out.insert("status".into(), go_shaped(&status, &format!("{prefix}HorizontalPodAutoscalerStatus")));
    Value::Object(out)
}

/// The metadata annotations of `object`.
fn annotations_of(object: &Value) -> Map<String, Value> {
    object.get("metadata").and_then(|m| m.get("annotations")).and_then(Value::as_object).cloned().unwrap_or_default()
}

/// The CPU utilization of a CPU resource metric's `target` or `current`.
fn cpu_utilization<'a>(metric: &'a Value, value_key: &str) -> Option<&'a Value> {
    is_cpu_resource(metric)?.get(value_key).and_then(|v| present(v, "averageUtilization"))
}

/// The stored (autoscaling/v2) object served as autoscaling/v1
/// (`Convert_autoscaling_HorizontalPodAutoscaler_To_v1_HorizontalPodAutoscaler`).
pub fn hpa_v1_from_v2(stored: &Value) -> Value {
    let Some(input) = stored.as_object() else { return stored.clone() };
    let empty = json!({});
    let spec = present(stored, "spec").unwrap_or(&empty);
    let status = present(stored, "status").unwrap_or(&empty);
    let metrics = present_list(spec, "metrics");
    let current_metrics = present_list(status, "currentMetrics");
    let conditions = present_list(status, "conditions");

    // The first CPU resource metric gives the v1 target; CPU utilization ones go no further.
    let target_cpu = metrics.iter().find(|m| is_cpu_resource(m).is_some()).and_then(|m| cpu_utilization(m, "target"));
    let other_metrics: Vec<Value> = metrics
        .iter()
        .filter(|m| cpu_utilization(m, "target").is_none())
        .map(|m| metric_to_v1(m, Part::Spec))
        .collect();
    let current_cpu = current_metrics.iter().rev().find_map(|m| cpu_utilization(m, "current"));

    let mut annotations = annotations_of(stored);
    remove_round_trip(&mut annotations);
    // Each annotation is left out when it has nothing to say.
    let list = |items: Vec<Value>| (!items.is_empty()).then(|| json!(render_ordered(&Value::Array(items))));
    let mut annotate = |key: &str, value: Option<Value>| {
        if let Some(value) = value {
            annotations.insert(key.into(), value);
        }
    };
    annotate(METRICS_ANNOTATION, list(other_metrics));
    annotate(CURRENT_METRICS_ANNOTATION, list(current_metrics.iter().map(|m| metric_to_v1(m, Part::Status)).collect()));
    annotate(BEHAVIOR_ANNOTATION, present(spec, "behavior").map(|b| json!(behavior_annotation(b))));
    let conditions = conditions.iter().map(|c| go_shaped(c, &format!("{V1}HorizontalPodAutoscalerCondition")));
    annotate(CONDITIONS_ANNOTATION, list(conditions.collect()));
    let v1_spec = carried(spec, &SPEC_FIELDS, [("targetCPUUtilizationPercentage", target_cpu.cloned())]);
    let v1_status = carried(status, &STATUS_FIELDS, [("currentCPUUtilizationPercentage", current_cpu.cloned())]);
    convert_object(input, true, annotations, v1_spec, v1_status)
}

/// An autoscaling/v1 object in its stored (autoscaling/v2) form
/// (`Convert_v1_HorizontalPodAutoscaler_To_autoscaling_HorizontalPodAutoscaler`).
pub fn hpa_v2_from_v1(served: &Value) -> Value {
    let Some(input) = served.as_object() else { return served.clone() };
    let empty = json!({});
    let spec = present(served, "spec").unwrap_or(&empty);
    let status = present(served, "status").unwrap_or(&empty);
    let mut annotations = annotations_of(served);
    let facts = kubeplex_api_facts::facts();

    let mut metrics: Vec<Value> = parse_annotation(&annotations, METRICS_ANNOTATION)
        .as_ref()
        .and_then(Value::as_array)
        .map(|items| items.iter().map(|m| metric_to_v2(m, Part::Spec)).collect())
        .unwrap_or_default();
    if let Some(cpu) = present(spec, "targetCPUUtilizationPercentage") {
        metrics.push(cpu_metric(cpu.clone()));
    }
    if metrics.is_empty() {
        metrics.push(cpu_metric(json!(DEFAULT_CPU_UTILIZATION)));
    }
    let behavior = parse_annotation(&annotations, BEHAVIOR_ANNOTATION)
        .and_then(|b| from_go_names(&b, &TypeRef::Named(format!("{V2}HorizontalPodAutoscalerBehavior")), facts));
    let current_metrics = match parse_annotation(&annotations, CURRENT_METRICS_ANNOTATION) {
        Some(Value::Array(items)) => Some(Value::Array(items.iter().map(|m| metric_to_v2(m, Part::Status)).collect())),
        _ => present(status, "currentCPUUtilizationPercentage")
            .map(|u| json!([{"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": u}}}])),
    };
    let conditions = parse_annotation(&annotations, CONDITIONS_ANNOTATION).filter(Value::is_array);
    remove_round_trip(&mut annotations);

    let v2_spec = carried(spec, &SPEC_FIELDS, [("metrics", Some(Value::Array(metrics))), ("behavior", behavior)]);
    let v2_status = carried(status, &STATUS_FIELDS, [("currentMetrics", current_metrics), ("conditions", conditions)]);
    convert_object(input, false, annotations, v2_spec, v2_status)
}

fn cpu_metric(utilization: Value) -> Value {
    let target = json!({"type": "Utilization", "averageUtilization": utilization});
    json!({"type": "Resource", "resource": {"name": "cpu", "target": target}})
}

// -------------------------------------------------------------- strategy

/// What upstream's v2 decoding does to the v1 round-trip annotations a v2
/// client sends: they are dropped (`DropRoundTripHorizontalPodAutoscalerAnnotations`).
pub(super) fn drop_round_trip_annotations(object: &mut Value) {
    let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) else { return };
    let Some(annotations) = meta.get_mut("annotations").and_then(Value::as_object_mut) else { return };
    remove_round_trip(annotations);
    if annotations.is_empty() {
        meta.shift_remove("annotations");
    }
}

/// The v2 descriptor the v1 strategy delegates to (kind and group are the
/// same, so error messages name the kind alike).
fn v2_def(def: &ResourceDef) -> ResourceDef {
    ResourceDef { version: Cow::Borrowed("v2"), ..def.clone() }
}

/// `SetDefaults_HorizontalPodAutoscaler` of autoscaling/v1: one minimum
/// replica (the 80% CPU default is the conversion's).
fn v1_defaults(object: &mut Value) {
    if let Some(spec) = super::field::obj_path(object, &["spec"]) {
        super::field::set_default(spec, "minReplicas", json!(1));
    }
}

/// A decode error of the v2 strategy names the request's version.
fn in_v1(def: &ResourceDef, result: Result<(), ApiError>) -> Result<(), ApiError> {
    result.map_err(|mut e| {
        let from = "in version \"v2\" cannot be handled";
        if e.message.contains(from) {
            e.message = e.message.replace(from, &format!("in version \"{}\" cannot be handled", def.version));
        }
        e
    })
}

/// `prepare_for_create` of a v1 object.
pub(super) fn prepare_for_create(def: &ResourceDef, object: &mut Value) {
    v1_defaults(object);
    let mut v2 = hpa_v2_from_v1(object);
    super::prepare_for_create(&v2_def(def), &mut v2);
    *object = hpa_v1_from_v2(&v2);
}

/// `validate_create` of a v1 object.
pub(super) fn validate_create(def: &ResourceDef, object: &Value) -> Result<(), ApiError> {
    in_v1(def, super::validate_create(&v2_def(def), &hpa_v2_from_v1(object)))
}

/// `prepare_for_update` of a v1 object.
pub(super) fn prepare_for_update(def: &ResourceDef, new: &mut Value, old: &Value) {
    v1_defaults(new);
    let mut v2 = hpa_v2_from_v1(new);
    super::prepare_for_update(&v2_def(def), &mut v2, &hpa_v2_from_v1(old));
    *new = hpa_v1_from_v2(&v2);
}

/// `validate_update` of a v1 object.
pub(super) fn validate_update(def: &ResourceDef, new: &Value, old: &Value) -> Result<(), ApiError> {
    in_v1(def, super::validate_update(&v2_def(def), &hpa_v2_from_v1(new), &hpa_v2_from_v1(old)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use kubeplex_core::resource::{BUILTIN, find};

    fn v2_full() -> Value {
        json!({
            "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "web", "namespace": "default", "annotations": {"team": "a"}},
            "spec": {
                "scaleTargetRef": {"kind": "Deployment", "name": "web", "apiVersion": "apps/v1"},
                "minReplicas": 2, "maxReplicas": 5,
                "metrics": [
                    {"type": "Resource", "resource": {"name": "memory",
                        "target": {"type": "AverageValue", "averageValue": "100Mi"}}},
                    {"type": "Pods", "pods": {"metric": {"name": "qps"},
                        "target": {"type": "AverageValue", "averageValue": "10"}}},
                    {"type": "External", "external": {
                        "metric": {"name": "queue", "selector": {"matchLabels": {"q": "a"}}},
                        "target": {"type": "Value", "value": "30"}}},
                    {"type": "Resource", "resource": {"name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": 70}}}
                ],
                "behavior": {"scaleUp": {"stabilizationWindowSeconds": 0, "selectPolicy": "Max",
                    "policies": [{"type": "Pods", "value": 4, "periodSeconds": 15}]},
                    "scaleDown": {"selectPolicy": "Min",
                    "policies": [{"type": "Percent", "value": 50, "periodSeconds": 60}], "tolerance": "50m"}}
            },
            "status": {
                "observedGeneration": 3, "currentReplicas": 2, "desiredReplicas": 3,
                "currentMetrics": [
                    {"type": "Resource", "resource": {"name": "cpu",
                        "current": {"averageValue": "120m", "averageUtilization": 60}}},
                    {"type": "External", "external": {"metric": {"name": "queue"}, "current": {"value": "12"}}}
                ],
                "conditions": [{"type": "AbleToScale", "status": "True",
                    "lastTransitionTime": "2026-01-01T00:00:00Z", "reason": "ReadyForNewScale", "message": "ok"}]
            }
        })
    }

    #[test]
    fn v1_view_of_a_v2_object() {
        let v1 = hpa_v1_from_v2(&v2_full());
        assert_eq!(v1["apiVersion"], "autoscaling/v1");
        assert_eq!(v1["spec"]["targetCPUUtilizationPercentage"], 70);
        assert_eq!(v1["spec"]["minReplicas"], 2);
        assert!(v1["spec"].get("metrics").is_none());
        assert_eq!(v1["status"]["currentCPUUtilizationPercentage"], 60);
        assert_eq!(v1["status"]["observedGeneration"], 3);
        let annotations = &v1["metadata"]["annotations"];
        assert_eq!(annotations["team"], "a");
        assert_eq!(
            annotations[METRICS_ANNOTATION],
            concat!(
                r#"[{"type":"Resource","resource":{"name":"memory","targetAverageValue":"100Mi"}},"#,
                r#"{"type":"Pods","pods":{"metricName":"qps","targetAverageValue":"10"}},"#,
                r#"{"type":"External","external":{"metricName":"queue","metricSelector":{"matchLabels":{"q":"a"}},"#,
                r#""targetValue":"30"}}]"#
            )
        );
        assert_eq!(
            annotations[CURRENT_METRICS_ANNOTATION],
            concat!(
                r#"[{"type":"Resource","resource":{"name":"cpu","currentAverageUtilization":60,"#,
                r#""currentAverageValue":"120m"}},"#,
                r#"{"type":"External","external":{"metricName":"queue","currentValue":"12"}}]"#
            )
        );
        assert_eq!(
            annotations[BEHAVIOR_ANNOTATION],
            concat!(
                r#"{"ScaleUp":{"StabilizationWindowSeconds":0,"SelectPolicy":"Max","#,
                r#""Policies":[{"Type":"Pods","Value":4,"PeriodSeconds":15}],"Tolerance":null},"#,
                r#""ScaleDown":{"StabilizationWindowSeconds":null,"SelectPolicy":"Min","#,
                r#""Policies":[{"Type":"Percent","Value":50,"PeriodSeconds":60}],"Tolerance":"50m"}}"#
            )
        );
        assert!(annotations[CONDITIONS_ANNOTATION].as_str().unwrap().contains(r#""reason":"ReadyForNewScale""#));
        let keys: Vec<&String> = annotations.as_object().unwrap().keys().collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
    }

    #[test]
    fn round_trip_keeps_everything_through_the_annotations() {
        let original = v2_full();
        let back = hpa_v2_from_v1(&hpa_v1_from_v2(&original));
        assert_eq!(back["apiVersion"], "autoscaling/v2");
        assert_eq!(back["metadata"], original["metadata"]);
        assert_eq!(back["spec"]["behavior"], original["spec"]["behavior"]);
        assert_eq!(back["spec"]["scaleTargetRef"], original["spec"]["scaleTargetRef"]);
        assert_eq!((back["spec"]["minReplicas"].clone(), back["spec"]["maxReplicas"].clone()), (json!(2), json!(5)));
        // The CPU utilization metric comes back last, as upstream puts it.
        assert_eq!(back["spec"]["metrics"], original["spec"]["metrics"]);
        assert_eq!(back["status"]["conditions"], original["status"]["conditions"]);
        assert_eq!(back["status"]["observedGeneration"], 3);
        assert_eq!(back["status"]["desiredReplicas"], 3);
        assert_eq!(back["status"]["currentReplicas"], 2);
        // v1's non-pointer quantities read back as "0" (upstream too).
        let current = &back["status"]["currentMetrics"];
        assert_eq!(current[0]["resource"]["current"], json!({"averageValue": "120m", "averageUtilization": 60}));
        assert_eq!(current[1]["external"], json!({"metric": {"name": "queue"}, "current": {"value": "12"}}));
        // A second trip changes nothing more.
        assert_eq!(hpa_v2_from_v1(&hpa_v1_from_v2(&back)), back);
    }

    #[test]
    fn v1_objects_in_their_stored_form() {
        let v1 = json!({
            "apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "web"},
            "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web", "apiVersion": "apps/v1"},
                "minReplicas": 2, "maxReplicas": 5, "targetCPUUtilizationPercentage": 80},
            "status": {"currentReplicas": 0, "desiredReplicas": 0}
        });
        let v2 = hpa_v2_from_v1(&v1);
        assert_eq!(v2["spec"]["metrics"], json!([cpu_metric(json!(80))]));
        assert_eq!(v2["status"], json!({"desiredReplicas": 0, "currentMetrics": null}));
        assert!(v2["metadata"].get("annotations").is_none());
        let back = hpa_v1_from_v2(&v2);
        assert_eq!(back, v1);
        // No metric at all: 80% CPU; a current CPU percentage becomes a current metric.
        let bare = json!({"spec": {"maxReplicas": 3}, "status": {"currentCPUUtilizationPercentage": 42}});
        let v2 = hpa_v2_from_v1(&bare);
        assert_eq!(v2["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"], 80);
        assert_eq!(v2["status"]["currentMetrics"][0]["resource"]["current"], json!({"averageUtilization": 42}));
        // Round-trip annotations from a client never reach storage, through v2 neither.
        let mut v2 = json!({"metadata": {"annotations": {METRICS_ANNOTATION: "[]"}}});
        drop_round_trip_annotations(&mut v2);
        assert_eq!(v2, json!({"metadata": {}}));
        let junk = json!({"metadata": {"annotations": {BEHAVIOR_ANNOTATION: "not json", "x": "y"}}, "spec": {}});
        assert_eq!(hpa_v2_from_v1(&junk)["metadata"], json!({"annotations": {"x": "y"}}));
        assert!(hpa_v2_from_v1(&junk)["spec"].get("behavior").is_none());
    }

    #[test]
    fn v1_strategy_runs_the_v2_one() {
        let def = find(BUILTIN, "autoscaling", "v1", "horizontalpodautoscalers").unwrap();
        assert!(is_v1(def));
        let mut hpa = json!({
            "apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "maxReplicas": 5,
                "targetCPUUtilizationPercentage": 80},
            "status": {"currentReplicas": 4, "desiredReplicas": 4}
        });
        prepare_for_create(def, &mut hpa);
        assert_eq!(hpa["spec"]["minReplicas"], 1);
        assert_eq!(hpa["status"], json!({"currentReplicas": 0, "desiredReplicas": 0}));
        assert!(validate_create(def, &hpa).is_ok());
        let mut bad = hpa.clone();
        bad["spec"]["targetCPUUtilizationPercentage"] = json!(0);
        bad["spec"]["maxReplicas"] = json!(0);
        let err = validate_create(def, &bad).unwrap_err();
        assert!(err.message.contains("spec.maxReplicas: Invalid value: 0: must be greater than 0"), "{}", err.message);
        assert!(
            err.message.contains("spec.metrics[0].resource.target.averageUtilization: Invalid value: 0"),
            "{}",
            err.message
        );
        let mut new = hpa.clone();
        new["spec"]["maxReplicas"] = json!(7);
        new["status"] = json!({"currentReplicas": 9, "desiredReplicas": 9});
        let mut old = hpa.clone();
        old["status"]["currentCPUUtilizationPercentage"] = json!(33);
        prepare_for_update(def, &mut new, &old);
        assert_eq!(new["spec"]["maxReplicas"], 7);
        assert_eq!(new["status"]["currentCPUUtilizationPercentage"], 33);
        assert_eq!(new["status"]["currentReplicas"], 0);
        assert!(validate_update(def, &new, &old).is_ok());
    }

    #[test]
    fn object_and_container_metrics_both_ways() {
        // v1's non-pointer quantities: `targetValue` reads "0", the v2 target keeps it.
        let cases = [
            (
                Part::Spec,
                concat!(
                    r#"{"type":"Object","object":{"describedObject":{"kind":"Service","name":"front"},"#,
                    r#""metric":{"name":"rps"},"target":{"type":"AverageValue","averageValue":"5"}}}"#
                ),
                concat!(
                    r#"{"type":"Object","object":{"target":{"kind":"Service","name":"front"},"metricName":"rps","#,
                    r#""targetValue":"0","averageValue":"5"}}"#
                ),
                concat!(
                    r#"{"type":"Object","object":{"describedObject":{"kind":"Service","name":"front"},"#,
                    r#""target":{"type":"AverageValue","value":"0","averageValue":"5"},"metric":{"name":"rps"}}}"#
                ),
            ),
            (
                Part::Spec,
                concat!(
                    r#"{"type":"ContainerResource","containerResource":{"name":"cpu","container":"app","#,
                    r#""target":{"type":"Utilization","averageUtilization":60}}}"#
                ),
                r#"{"type":"ContainerResource","containerResource":{"name":"cpu","targetAverageUtilization":60,"container":"app"}}"#,
                concat!(
                    r#"{"type":"ContainerResource","containerResource":{"name":"cpu","#,
                    r#""target":{"type":"Utilization","averageUtilization":60},"container":"app"}}"#
                ),
            ),
            (
                Part::Status,
                concat!(
                    r#"{"type":"Object","object":{"describedObject":{"kind":"Service","name":"front"},"#,
                    r#""metric":{"name":"rps"},"current":{"value":"7"}}}"#
                ),
                r#"{"type":"Object","object":{"target":{"kind":"Service","name":"front"},"metricName":"rps","currentValue":"7"}}"#,
                concat!(
                    r#"{"type":"Object","object":{"metric":{"name":"rps"},"current":{"value":"7"},"#,
                    r#""describedObject":{"kind":"Service","name":"front"}}}"#
                ),
            ),
            (
                Part::Status,
                r#"{"type":"Pods","pods":{"metric":{"name":"qps"},"current":{"averageValue":"3"}}}"#,
                r#"{"type":"Pods","pods":{"metricName":"qps","currentAverageValue":"3"}}"#,
                r#"{"type":"Pods","pods":{"metric":{"name":"qps"},"current":{"averageValue":"3"}}}"#,
            ),
            (
                Part::Status,
                concat!(
                    r#"{"type":"ContainerResource","containerResource":{"name":"memory","container":"app","#,
                    r#""current":{"averageValue":"1Gi"}}}"#
                ),
                r#"{"type":"ContainerResource","containerResource":{"name":"memory","currentAverageValue":"1Gi","container":"app"}}"#,
                concat!(
                    r#"{"type":"ContainerResource","containerResource":{"name":"memory","#,
                    r#""current":{"averageValue":"1Gi"},"container":"app"}}"#
                ),
            ),
        ];
        for (part, v2, v1, back) in cases {
            let served = metric_to_v1(&serde_json::from_str(v2).unwrap(), part);
            assert_eq!(served.to_string(), v1);
            assert_eq!(metric_to_v2(&served, part).to_string(), back);
        }
    }
}
