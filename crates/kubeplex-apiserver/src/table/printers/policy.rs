//! Printers of ResourceQuota (core/v1), PodDisruptionBudget (policy/v1) and
//! HorizontalPodAutoscaler (autoscaling/v2), with the cells of
//! `printResourceQuota`, `printPodDisruptionBudget` and
//! `printHorizontalPodAutoscaler`. LimitRanges have no printer upstream:
//! they get the default `Name` / `Created At` table.

use jiff::Timestamp;
use serde_json::Value;

use super::{AGE, Column, NAME, Row, age, col, name, quantity_at};
use crate::table::json::{get, has, int_at, list_at, opt_int_at, str_at};

/// The built-in kinds of this group that upstream prints with the default
/// table convertor.
#[cfg(test)]
pub(super) const DEFAULT_CONVERTOR_KINDS: &[(&str, &str)] = &[("", "LimitRange")];

// Column descriptions: the printers' texts and `SwaggerDoc()` of autoscaling/v2 (k8s.io/api v0.36).
const QUOTA_REQUEST: &str = "Request represents a minimum amount of cpu/memory that a container may consume.";
const QUOTA_LIMIT: &str =
    "Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.";
const PDB_MIN: &str = "The minimum number of pods that must be available.";
const PDB_MAX: &str = "The maximum number of pods that may be unavailable.";
const PDB_ALLOWED: &str = "Calculated number of pods that may be disrupted at this time.";
const HPA_REFERENCE: &str = "scaleTargetRef points to the target resource to scale, and is used to the pods for which metrics should be collected, as well as to actually change the replica count.";
const HPA_METRICS: &str = "metrics contains the specifications for which to use to calculate the desired replica count (the maximum replica count across all metrics will be used).  The desired replica count is calculated multiplying the ratio between the target value and the current value by the current number of pods.  Ergo, metrics used must decrease as the pod count is increased, and vice-versa.  See the individual metric source types for more information about how each type of metric must respond. If not set, the default metric will be set to 80% average CPU utilization.";
const HPA_MIN: &str = "minReplicas is the lower limit for the number of replicas to which the autoscaler can scale down.  It defaults to 1 pod.  minReplicas is allowed to be 0 if the alpha feature gate HPAScaleToZero is enabled and at least one Object or External metric is configured.  Scaling is active as long as at least one metric value is available.";
const HPA_MAX: &str = "maxReplicas is the upper limit for the number of replicas to which the autoscaler can scale up. It cannot be less that minReplicas.";
const HPA_CURRENT: &str =
    "currentReplicas is current number of replicas of pods managed by this autoscaler, as last seen by the autoscaler.";

/// `Quantity.String()` of the value at `path` (`<nil>` for a nil quantity).
fn quantity(obj: &Value, path: &[&str]) -> String {
    match quantity_at(obj, path) {
        Some(q) => q.to_string(),
        None if has(obj, path) => "0".to_owned(),
        None => "<nil>".to_owned(),
    }
}

pub(super) const RESOURCE_QUOTA_COLUMNS: &[Column] =
    &[NAME, col("Request", "string", QUOTA_REQUEST), col("Limit", "string", QUOTA_LIMIT), AGE];

/// `resource: used/hard` for every hard limit in name order, `limits.*`
/// under Limit, the rest under Request.
pub(super) fn resource_quota(obj: &Value, now: Timestamp) -> Row {
    let mut names: Vec<&str> = get(obj, &["status", "hard"])
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(k, _)| k.as_str())
        .collect();
    names.sort_unstable();
    let (mut requests, mut limits) = (Vec::new(), Vec::new());
    for resource in names {
        let used = match quantity(obj, &["status", "used", resource]) {
            s if s == "<nil>" => "0".to_owned(),
            s => s,
        };
        let entry = format!("{resource}: {used}/{}", quantity(obj, &["status", "hard", resource]));
        let mut pieces = resource.split('.');
        if pieces.next() == Some("limits") && pieces.next().is_some() {
            limits.push(entry);
        } else {
            requests.push(entry);
        }
    }
    Row::new(vec![name(obj), Value::from(requests.join(", ")), Value::from(limits.join(", ")), age(obj, now)])
}

pub(super) const POD_DISRUPTION_BUDGET_COLUMNS: &[Column] = &[
    NAME,
    col("Min Available", "string", PDB_MIN),
    col("Max Unavailable", "string", PDB_MAX),
    col("Allowed Disruptions", "integer", PDB_ALLOWED),
    AGE,
];

/// An `IntOrString` as its `String()`, `N/A` when unset.
fn int_or_string(obj: &Value, path: &[&str]) -> String {
    match get(obj, path) {
        None => "N/A".to_owned(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

pub(super) fn pod_disruption_budget(obj: &Value, now: Timestamp) -> Row {
    Row::new(vec![
        name(obj),
        Value::from(int_or_string(obj, &["spec", "minAvailable"])),
        Value::from(int_or_string(obj, &["spec", "maxUnavailable"])),
        Value::from(int_at(obj, &["status", "disruptionsAllowed"])),
        age(obj, now),
    ])
}

pub(super) const HORIZONTAL_POD_AUTOSCALER_COLUMNS: &[Column] = &[
    NAME,
    col("Reference", "string", HPA_REFERENCE),
    col("Targets", "string", HPA_METRICS),
    col("MinPods", "string", HPA_MIN),
    col("MaxPods", "string", HPA_MAX),
    col("Replicas", "string", HPA_CURRENT),
    AGE,
];

/// `formatHPAMetrics`: `current/target` of the first two metrics, in the
/// form of each metric type, `+ N more...` for the rest.
fn hpa_metrics(obj: &Value) -> String {
    let specs = list_at(obj, &["spec", "metrics"]);
    if specs.is_empty() {
        return "<none>".to_owned();
    }
    let statuses = list_at(obj, &["status", "currentMetrics"]);
    let mut list = Vec::new();
    for (i, spec) in specs.iter().enumerate() {
        let status = statuses.get(i).filter(|_| i < statuses.len());
        let source = |key: &str| status.and_then(|st| get(st, &[key]));
        let entry = match str_at(spec, &["type"]) {
            kind @ ("External" | "Object") => {
                let key = if kind == "External" { "external" } else { "object" };
                if has(spec, &[key, "target", "averageValue"]) {
                    let current = source(key)
                        .filter(|s| has(s, &["current", "averageValue"]))
                        .map_or_else(|| "<unknown>".to_owned(), |s| quantity(s, &["current", "averageValue"]));
                    format!("{current}/{} (avg)", quantity(spec, &[key, "target", "averageValue"]))
                } else {
                    let current =
                        source(key).map_or_else(|| "<unknown>".to_owned(), |s| quantity(s, &["current", "value"]));
                    format!("{current}/{}", quantity(spec, &[key, "target", "value"]))
                }
            }
            "Pods" => {
                let current = source("pods")
                    .map_or_else(|| "<unknown>".to_owned(), |s| quantity(s, &["current", "averageValue"]));
                format!("{current}/{}", quantity(spec, &["pods", "target", "averageValue"]))
            }
            kind @ ("Resource" | "ContainerResource") => {
                let key = if kind == "Resource" { "resource" } else { "containerResource" };
                let resource = str_at(spec, &[key, "name"]);
                if has(spec, &[key, "target", "averageValue"]) {
                    let current = source(key)
                        .map_or_else(|| "<unknown>".to_owned(), |s| quantity(s, &["current", "averageValue"]));
                    format!("{resource}: {current}/{}", quantity(spec, &[key, "target", "averageValue"]))
                } else {
                    let current = source(key)
                        .and_then(|s| opt_int_at(s, &["current", "averageUtilization"]))
                        .map_or_else(|| "<unknown>".to_owned(), |u| format!("{u}%"));
                    let target = opt_int_at(spec, &[key, "target", "averageUtilization"])
                        .map_or_else(|| "<auto>".to_owned(), |u| format!("{u}%"));
                    format!("{resource}: {current}/{target}")
                }
            }
            _ => "<unknown type>".to_owned(),
        };
        list.push(entry);
    }
    const MAX: usize = 2;
    let count = list.len();
    if count > MAX {
        list.truncate(MAX);
        return format!("{} + {} more...", list.join(", "), count - MAX);
    }
    list.join(", ")
}

pub(super) fn horizontal_pod_autoscaler(obj: &Value, now: Timestamp) -> Row {
    let reference = format!(
        "{}/{}",
        str_at(obj, &["spec", "scaleTargetRef", "kind"]),
        str_at(obj, &["spec", "scaleTargetRef", "name"])
    );
    let min = opt_int_at(obj, &["spec", "minReplicas"]).map_or_else(|| "<unset>".to_owned(), |m| m.to_string());
    Row::new(vec![
        name(obj),
        Value::from(reference),
        Value::from(hpa_metrics(obj)),
        Value::from(min),
        Value::from(int_at(obj, &["spec", "maxReplicas"])),
        Value::from(int_at(obj, &["status", "currentReplicas"])),
        age(obj, now),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> Timestamp {
        "2025-06-01T12:00:00Z".parse().unwrap()
    }

    #[test]
    fn resource_quota_cells() {
        let q = json!({"metadata": {"name": "compute"},
                       "status": {"hard": {"pods": "10", "limits.memory": "2Gi", "requests.cpu": "1", "limits.cpu": "2"},
                                  "used": {"pods": "3", "limits.cpu": "500m"}}});
        assert_eq!(
            resource_quota(&q, now()).cells,
            vec![
                json!("compute"),
                json!("pods: 3/10, requests.cpu: 0/1"),
                json!("limits.cpu: 500m/2, limits.memory: 0/2Gi"),
                json!("<unknown>")
            ]
        );
        assert_eq!(resource_quota(&json!({}), now()).cells[1..3], [json!(""), json!("")]);
    }

    #[test]
    fn pod_disruption_budget_cells() {
        let pdb =
            json!({"metadata": {"name": "web"}, "spec": {"minAvailable": "50%"}, "status": {"disruptionsAllowed": 1}});
        assert_eq!(
            pod_disruption_budget(&pdb, now()).cells,
            vec![json!("web"), json!("50%"), json!("N/A"), json!(1), json!("<unknown>")]
        );
        let pdb = json!({"spec": {"maxUnavailable": 1}});
        assert_eq!(pod_disruption_budget(&pdb, now()).cells[1..4], [json!("N/A"), json!("1"), json!(0)]);
    }

    #[test]
    fn hpa_cells() {
        let hpa = json!({"metadata": {"name": "web"},
            "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "minReplicas": 1, "maxReplicas": 10,
                     "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}]},
            "status": {"currentReplicas": 2, "desiredReplicas": 2, "currentMetrics": null}});
        assert_eq!(
            horizontal_pod_autoscaler(&hpa, now()).cells,
            vec![
                json!("web"),
                json!("Deployment/web"),
                json!("cpu: <unknown>/80%"),
                json!("1"),
                json!(10),
                json!(2),
                json!("<unknown>")
            ]
        );
        let many = json!({"spec": {"metrics": [
            {"type": "Pods", "pods": {"metric": {"name": "qps"}, "target": {"type": "AverageValue", "averageValue": "1k"}}},
            {"type": "External", "external": {"metric": {"name": "q"}, "target": {"type": "AverageValue", "averageValue": "30"}}},
            {"type": "Resource", "resource": {"name": "memory", "target": {"type": "AverageValue", "averageValue": "1Gi"}}}]},
            "status": {"currentMetrics": [{"type": "Pods", "pods": {"current": {"averageValue": "250"}}}]}});
        assert_eq!(hpa_metrics(&many), "250/1k, <unknown>/30 (avg) + 1 more...");
        assert_eq!(
            horizontal_pod_autoscaler(&json!({}), now()).cells[1..4],
            [json!("/"), json!("<none>"), json!("<unset>")]
        );
    }
}
