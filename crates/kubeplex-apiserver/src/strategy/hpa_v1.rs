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

/// A non-pointer Go quantity: `"0"` when unset.
fn quantity_or_zero(value: Option<&Value>) -> Value {
    value.filter(|v| !v.is_null()).cloned().unwrap_or_else(|| json!("0"))
}

fn is_cpu_resource(metric: &Value) -> Option<&Value> {
    let resource = present(metric, "resource")?;
    (metric.get("type").and_then(Value::as_str) == Some("Resource")
        && resource.get("name").and_then(Value::as_str) == Some("cpu"))
    .then_some(resource)
}

fn metric_identifier(name: Option<&Value>, selector: Option<&Value>) -> Value {
    object([("name", Some(name.cloned().unwrap_or_else(|| json!("")))), ("selector", selector.cloned())])
}

/// A v2 `MetricSpec` as v1's (v2beta1-shaped) `MetricSpec`.
fn metric_spec_to_v1(metric: &Value) -> Value {
    let empty = json!({});
    let source = |key| present(metric, key);
    let target = |s: &Value| s.get("target").cloned().unwrap_or(json!({}));
    let mut out = object([("type", take(metric, "type"))]);
    let converted = if let Some(s) = source("object") {
        let t = target(s);
        let m = present(s, "metric").unwrap_or(&empty);
        Some((
            "object",
            object([
                ("target", take(s, "describedObject")),
                ("metricName", take(m, "name")),
                ("targetValue", Some(quantity_or_zero(t.get("value")))),
                ("selector", take(m, "selector")),
                ("averageValue", take(&t, "averageValue")),
            ]),
        ))
    } else if let Some(s) = source("pods") {
        let t = target(s);
        let m = present(s, "metric").unwrap_or(&empty);
        Some((
            "pods",
            object([
                ("metricName", take(m, "name")),
                ("targetAverageValue", Some(quantity_or_zero(t.get("averageValue")))),
                ("selector", take(m, "selector")),
            ]),
        ))
    } else if let Some(s) = source("resource") {
        let t = target(s);
        Some((
            "resource",
            object([
                ("name", take(s, "name")),
                ("targetAverageUtilization", take(&t, "averageUtilization")),
                ("targetAverageValue", take(&t, "averageValue")),
            ]),
        ))
    } else if let Some(s) = source("containerResource") {
        let t = target(s);
        Some((
            "containerResource",
            object([
                ("name", take(s, "name")),
                ("targetAverageUtilization", take(&t, "averageUtilization")),
                ("targetAverageValue", take(&t, "averageValue")),
                ("container", take(s, "container")),
            ]),
        ))
    } else if let Some(s) = source("external") {
        let t = target(s);
        let m = present(s, "metric").unwrap_or(&empty);
        Some((
            "external",
            object([
                ("metricName", take(m, "name")),
                ("metricSelector", take(m, "selector")),
                ("targetValue", take(&t, "value")),
                ("targetAverageValue", take(&t, "averageValue")),
            ]),
        ))
    } else {
        None
    };
    if let (Some((key, value)), Some(map)) = (converted, out.as_object_mut()) {
        map.insert(key.into(), value);
    }
    go_shaped(&out, &format!("{V1}MetricSpec"))
}

/// A v1 `MetricSpec` (from the annotation) as v2's.
fn metric_spec_to_v2(metric: &Value) -> Value {
    let source = |key| present(metric, key);
    let mut out = object([("type", take(metric, "type"))]);
    let converted = if let Some(s) = source("object") {
        let average = take(s, "averageValue");
        let kind = if average.is_none() { "Value" } else { "AverageValue" };
        Some((
            "object",
            object([
                ("describedObject", take(s, "target")),
                (
                    "target",
                    Some(object([
                        ("type", Some(json!(kind))),
                        ("value", Some(quantity_or_zero(s.get("targetValue")))),
                        ("averageValue", average),
                    ])),
                ),
                ("metric", Some(metric_identifier(s.get("metricName"), present(s, "selector")))),
            ]),
        ))
    } else if let Some(s) = source("pods") {
        Some((
            "pods",
            object([
                ("metric", Some(metric_identifier(s.get("metricName"), present(s, "selector")))),
                (
                    "target",
                    Some(object([
                        ("type", Some(json!("AverageValue"))),
                        ("averageValue", Some(quantity_or_zero(s.get("targetAverageValue")))),
                    ])),
                ),
            ]),
        ))
    } else if let Some(key) = ["resource", "containerResource"].into_iter().find(|k| source(k).is_some()) {
        let s = source(key).unwrap_or(&Value::Null);
        let utilization = take(s, "targetAverageUtilization");
        let kind = if utilization.is_none() { "AverageValue" } else { "Utilization" };
        Some((
            key,
            object([
                ("name", take(s, "name")),
                (
                    "target",
                    Some(object([
                        ("type", Some(json!(kind))),
                        ("averageValue", take(s, "targetAverageValue")),
                        ("averageUtilization", utilization),
                    ])),
                ),
                ("container", take(s, "container")),
            ]),
        ))
    } else if let Some(s) = source("external") {
        let value = take(s, "targetValue");
        let kind = if value.is_none() { "AverageValue" } else { "Value" };
        Some((
            "external",
            object([
                ("metric", Some(metric_identifier(s.get("metricName"), present(s, "metricSelector")))),
                (
                    "target",
                    Some(object([
                        ("type", Some(json!(kind))),
                        ("value", value),
                        ("averageValue", take(s, "targetAverageValue")),
                    ])),
                ),
            ]),
        ))
    } else {
        None
    };
    if let (Some((key, value)), Some(map)) = (converted, out.as_object_mut()) {
        map.insert(key.into(), value);
    }
    go_shaped(&out, &format!("{V2}MetricSpec"))
}

/// A v2 `MetricStatus` as v1's.
fn metric_status_to_v1(metric: &Value) -> Value {
    let empty = json!({});
    let source = |key| present(metric, key);
    let current = |s: &Value| s.get("current").cloned().unwrap_or(json!({}));
    let mut out = object([("type", take(metric, "type"))]);
    let converted = if let Some(s) = source("object") {
        let c = current(s);
        let m = present(s, "metric").unwrap_or(&empty);
        Some((
            "object",
            object([
                ("target", take(s, "describedObject")),
                ("metricName", take(m, "name")),
                ("currentValue", Some(quantity_or_zero(c.get("value")))),
                ("selector", take(m, "selector")),
                ("averageValue", take(&c, "averageValue")),
            ]),
        ))
    } else if let Some(s) = source("pods") {
        let c = current(s);
        let m = present(s, "metric").unwrap_or(&empty);
        Some((
            "pods",
            object([
                ("metricName", take(m, "name")),
                ("currentAverageValue", Some(quantity_or_zero(c.get("averageValue")))),
                ("selector", take(m, "selector")),
            ]),
        ))
    } else if let Some(key) = ["resource", "containerResource"].into_iter().find(|k| source(k).is_some()) {
        let s = source(key).unwrap_or(&Value::Null);
        let c = current(s);
        Some((
            key,
            object([
                ("name", take(s, "name")),
                ("currentAverageUtilization", take(&c, "averageUtilization")),
                ("currentAverageValue", Some(quantity_or_zero(c.get("averageValue")))),
                ("container", take(s, "container")),
            ]),
        ))
    } else if let Some(s) = source("external") {
        let c = current(s);
        let m = present(s, "metric").unwrap_or(&empty);
        Some((
            "external",
            object([
                ("metricName", take(m, "name")),
                ("metricSelector", take(m, "selector")),
                ("currentValue", Some(quantity_or_zero(c.get("value")))),
                ("currentAverageValue", take(&c, "averageValue")),
            ]),
        ))
    } else {
        None
    };
    if let (Some((key, value)), Some(map)) = (converted, out.as_object_mut()) {
        map.insert(key.into(), value);
    }
    go_shaped(&out, &format!("{V1}MetricStatus"))
}

/// A v1 `MetricStatus` (from the annotation) as v2's.
fn metric_status_to_v2(metric: &Value) -> Value {
    let source = |key| present(metric, key);
    let mut out = object([("type", take(metric, "type"))]);
    let converted = if let Some(s) = source("object") {
        Some((
            "object",
            object([
                ("metric", Some(metric_identifier(s.get("metricName"), present(s, "selector")))),
                (
                    "current",
                    Some(object([
                        ("value", Some(quantity_or_zero(s.get("currentValue")))),
                        ("averageValue", take(s, "averageValue")),
                    ])),
                ),
                ("describedObject", take(s, "target")),
            ]),
        ))
    } else if let Some(s) = source("pods") {
        Some((
            "pods",
            object([
                ("metric", Some(metric_identifier(s.get("metricName"), present(s, "selector")))),
                ("current", Some(object([("averageValue", Some(quantity_or_zero(s.get("currentAverageValue"))))]))),
            ]),
        ))
    } else if let Some(key) = ["resource", "containerResource"].into_iter().find(|k| source(k).is_some()) {
        let s = source(key).unwrap_or(&Value::Null);
        Some((
            key,
            object([
                ("name", take(s, "name")),
                (
                    "current",
                    Some(object([
                        ("averageValue", Some(quantity_or_zero(s.get("currentAverageValue")))),
                        ("averageUtilization", take(s, "currentAverageUtilization")),
                    ])),
                ),
                ("container", take(s, "container")),
            ]),
        ))
    } else {
        source("external").map(|s| {
            (
                "external",
                object([
                    ("metric", Some(metric_identifier(s.get("metricName"), present(s, "metricSelector")))),
                    (
                        "current",
                        Some(object([
                            ("value", Some(quantity_or_zero(s.get("currentValue")))),
                            ("averageValue", take(s, "currentAverageValue")),
                        ])),
                    ),
                ]),
            )
        })
    };
    if let (Some((key, value)), Some(map)) = (converted, out.as_object_mut()) {
        map.insert(key.into(), value);
    }
    go_shaped(&out, &format!("{V2}MetricStatus"))
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

    let mut target_cpu = None;
    if let Some(resource) = metrics.iter().find_map(is_cpu_resource) {
        target_cpu = resource.get("target").and_then(|t| take(t, "averageUtilization"));
    }
    let other_metrics: Vec<Value> = metrics
        .iter()
        .filter(|m| {
            is_cpu_resource(m).is_none_or(|r| r.get("target").and_then(|t| present(t, "averageUtilization")).is_none())
        })
        .map(metric_spec_to_v1)
        .collect();
    let mut current_cpu = None;
    for resource in current_metrics.iter().filter_map(is_cpu_resource) {
        if let Some(u) = resource.get("current").and_then(|c| take(c, "averageUtilization")) {
            current_cpu = Some(u);
        }
    }

    let mut out = Map::new();
    for (key, value) in input {
        match key.as_str() {
            "apiVersion" => {
                out.insert(key.clone(), json!("autoscaling/v1"));
            }
            "metadata" => {
                let mut meta = value.clone();
                let mut annotations = meta.get("annotations").and_then(Value::as_object).cloned().unwrap_or_default();
                for k in ROUND_TRIP {
                    annotations.shift_remove(k);
                }
                let list = |items: Vec<Value>| render_ordered(&Value::Array(items));
                if !other_metrics.is_empty() {
                    annotations.insert(METRICS_ANNOTATION.into(), json!(list(other_metrics.clone())));
                }
                if !current_metrics.is_empty() {
                    let items = current_metrics.iter().map(metric_status_to_v1).collect();
                    annotations.insert(CURRENT_METRICS_ANNOTATION.into(), json!(list(items)));
                }
                if let Some(behavior) = present(spec, "behavior") {
                    annotations.insert(BEHAVIOR_ANNOTATION.into(), json!(behavior_annotation(behavior)));
                }
                if !conditions.is_empty() {
                    let items = conditions
                        .iter()
                        .map(|c| go_shaped(c, &format!("{V1}HorizontalPodAutoscalerCondition")))
                        .collect();
                    annotations.insert(CONDITIONS_ANNOTATION.into(), json!(list(items)));
                }
                if let Some(meta) = meta.as_object_mut() {
                    if annotations.is_empty() {
                        meta.shift_remove("annotations");
                    } else {
                        meta.insert("annotations".into(), Value::Object(annotations));
                        sort_map(meta, "annotations");
                    }
                }
                out.insert(key.clone(), meta);
            }
            "spec" | "status" => {}
            _ => {
                out.insert(key.clone(), value.clone());
            }
        }
    }
    let v1_spec = object([
        ("scaleTargetRef", take(spec, "scaleTargetRef")),
        ("minReplicas", take(spec, "minReplicas")),
        ("maxReplicas", take(spec, "maxReplicas")),
        ("targetCPUUtilizationPercentage", target_cpu),
    ]);
    let v1_status = object([
        ("observedGeneration", take(status, "observedGeneration")),
        ("lastScaleTime", take(status, "lastScaleTime")),
        ("currentReplicas", take(status, "currentReplicas")),
        ("desiredReplicas", take(status, "desiredReplicas")),
        ("currentCPUUtilizationPercentage", current_cpu),
    ]);
    out.insert("spec".into(), go_shaped(&v1_spec, &format!("{V1}HorizontalPodAutoscalerSpec")));
    out.insert("status".into(), go_shaped(&v1_status, &format!("{V1}HorizontalPodAutoscalerStatus")));
    Value::Object(out)
}

/// An autoscaling/v1 object in its stored (autoscaling/v2) form
/// (`Convert_v1_HorizontalPodAutoscaler_To_autoscaling_HorizontalPodAutoscaler`).
pub fn hpa_v2_from_v1(served: &Value) -> Value {
    let Some(input) = served.as_object() else { return served.clone() };
    let empty = json!({});
    let spec = present(served, "spec").unwrap_or(&empty);
    let status = present(served, "status").unwrap_or(&empty);
    let annotations = served
        .get("metadata")
        .and_then(|m| m.get("annotations"))
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let facts = kubeplex_api_facts::facts();

    let mut metrics: Vec<Value> = parse_annotation(&annotations, METRICS_ANNOTATION)
        .as_ref()
        .and_then(Value::as_array)
        .map(|items| items.iter().map(metric_spec_to_v2).collect())
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
        Some(Value::Array(items)) => Some(Value::Array(items.iter().map(metric_status_to_v2).collect())),
        _ => present(status, "currentCPUUtilizationPercentage")
            .map(|u| json!([{"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": u}}}])),
    };
    let conditions = parse_annotation(&annotations, CONDITIONS_ANNOTATION).filter(Value::is_array);

    let mut out = Map::new();
    for (key, value) in input {
        match key.as_str() {
            "apiVersion" => {
                out.insert(key.clone(), json!("autoscaling/v2"));
            }
            "metadata" => {
                let mut meta = value.clone();
                if let Some(meta) = meta.as_object_mut() {
                    let mut left = annotations.clone();
                    for k in ROUND_TRIP {
                        left.shift_remove(k);
                    }
                    if left.is_empty() {
                        meta.shift_remove("annotations");
                    } else {
                        meta.insert("annotations".into(), Value::Object(left));
                    }
                }
                out.insert(key.clone(), meta);
            }
            "spec" | "status" => {}
            _ => {
                out.insert(key.clone(), value.clone());
            }
        }
    }
    let v2_spec = object([
        ("scaleTargetRef", take(spec, "scaleTargetRef")),
        ("minReplicas", take(spec, "minReplicas")),
        ("maxReplicas", take(spec, "maxReplicas")),
        ("metrics", Some(Value::Array(metrics))),
        ("behavior", behavior),
    ]);
    let v2_status = object([
        ("observedGeneration", take(status, "observedGeneration")),
        ("lastScaleTime", take(status, "lastScaleTime")),
        ("currentReplicas", take(status, "currentReplicas")),
        ("desiredReplicas", take(status, "desiredReplicas")),
        ("currentMetrics", current_metrics),
        ("conditions", conditions),
    ]);
    out.insert("spec".into(), go_shaped(&v2_spec, &format!("{V2}HorizontalPodAutoscalerSpec")));
    out.insert("status".into(), go_shaped(&v2_status, &format!("{V2}HorizontalPodAutoscalerStatus")));
    Value::Object(out)
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
    for key in ROUND_TRIP {
        annotations.shift_remove(key);
    }
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
}
